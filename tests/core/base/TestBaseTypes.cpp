#include "base/CancelToken.h"
#include "base/Error.h"
#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "base/SampleData.h"
#include "base/SliceGeometry.h"
#include "base/Volume.h"

#include <QtTest>

#include <cstring>

using namespace diffseg::core;

class TestBaseTypes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void imageLayoutIsInterleavedRowMajor()
    {
        Image2D image(4, 3, 3, PixelType::UInt8);
        QCOMPARE(image.byteSize(), std::size_t(4 * 3 * 3));
        image.at<std::uint8_t>(2, 1, 2) = 77;
        QCOMPARE(image.data<std::uint8_t>()[(1 * 4 + 2) * 3 + 2], std::uint8_t(77));
    }

    void imageCopiesShareAndClonesDoNot()
    {
        Image2D a(8, 8, 1, PixelType::Float32);
        Image2D b = a;
        b.at<float>(1, 1) = 2.5f;
        QCOMPARE(a.at<float>(1, 1), 2.5f);
        Image2D c = a.clone();
        c.at<float>(1, 1) = 0.0f;
        QCOMPARE(a.at<float>(1, 1), 2.5f);
    }

    void wrongTypedAccessThrows()
    {
        Image2D image(2, 2, 1, PixelType::UInt8);
        QVERIFY_THROWS_EXCEPTION(Error, image.data<float>());
    }

    void absurdSizesAreRejectedWithAMessage()
    {
        try {
            Image2D image(0, 10, 3, PixelType::UInt8);
            QFAIL("no exception");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::InvalidValue);
            QVERIFY(std::strstr(e.what(), "0x10") != nullptr);
        }
        QVERIFY_THROWS_EXCEPTION(Error, Volume({100000, 1, 1}, 1, PixelType::Int16));
        QVERIFY_THROWS_EXCEPTION(Error, Image2D(4, 4, 9, PixelType::UInt8));
    }

    void wrapRejectsShortBuffers()
    {
        PixelBuffer small = PixelBuffer::allocate(10);
        QVERIFY_THROWS_EXCEPTION(Error, Image2D::wrap(4, 4, 1, PixelType::UInt8, small));
    }

    void volumeLayoutIsPlanarXFastest()
    {
        Volume v({5, 4, 3}, 2, PixelType::Int16);
        QCOMPARE(v.linearIndex(1, 2, 1, 1), std::size_t(((1 * 3 + 1) * 4 + 2) * 5 + 1));
        v.data<std::int16_t>()[v.linearIndex(4, 3, 2, 1)] = -7;
        Volume second = v.channel(1);
        QCOMPARE(second.channels(), 1);
        QCOMPARE(second.data<std::int16_t>()[second.linearIndex(4, 3, 2)], std::int16_t(-7));
        // The channel view shares voxels with its parent.
        second.data<std::int16_t>()[0] = 11;
        QCOMPARE(v.channelData<std::int16_t>(1)[0], std::int16_t(11));
    }

    void geometryMapsIndexToLpsAndBack()
    {
        Geometry g;
        g.spacing = {0.5, 2.0, 3.0};
        g.origin = {10.0, -20.0, 5.0};
        // Axes i->P, j->L, k->S (a 90 degree rotation about S).
        g.direction = {0, 1, 0, 1, 0, 0, 0, 0, 1};
        QVERIFY(g.isValid());
        QCOMPARE(QString::fromStdString(g.orientationCode()), QStringLiteral("PLS"));
        const auto p = g.indexToPhysical({2, 3, 4});
        QCOMPARE(p[0], 10.0 + 6.0);
        QCOMPARE(p[1], -20.0 + 1.0);
        QCOMPARE(p[2], 5.0 + 12.0);
        const auto idx = g.physicalToIndex(p);
        QVERIFY(std::abs(idx[0] - 2) < 1e-12 && std::abs(idx[1] - 3) < 1e-12 &&
                std::abs(idx[2] - 4) < 1e-12);
        Geometry bad = g;
        bad.spacing[1] = 0.0;
        QVERIFY(!bad.isValid());
        QVERIFY_THROWS_EXCEPTION(Error, Volume({2, 2, 2}, 1, PixelType::Float32, bad));
    }

    void labelMapsOnlyHoldLabelTypes()
    {
        Volume ct({4, 4, 4}, 1, PixelType::Int16);
        LabelMap labels = LabelMap::like(ct);
        QVERIFY(labels.isAlignedWith(ct));
        QVERIFY_THROWS_EXCEPTION(Error, LabelMap::fromVolume(ct));
        QVERIFY_THROWS_EXCEPTION(Error, LabelMap({2, 2, 2}, Geometry{}, PixelType::Float32));
    }

    void cancelTokenIsSharedByCopies()
    {
        CancelToken token;
        CancelToken copy = token;
        QVERIFY(!copy.isCancelled());
        token.cancel();
        QVERIFY(copy.isCancelled());
        QVERIFY_THROWS_EXCEPTION(Error, copy.throwIfCancelled("sampling"));
    }

    void slicesShowRadiologicalOrientationForAnyDirection()
    {
        const std::array<std::int64_t, 3> size{10, 20, 30};
        Geometry lps; // i -> L, j -> P, k -> S
        SliceGeometry axial(lps, size, SliceOrientation::Axial);
        QCOMPARE(axial.axis(0), 0);
        QCOMPARE(axial.axis(1), 1);
        QCOMPARE(axial.sliceAxis(), 2);
        QVERIFY(!axial.flipped(0) && !axial.flipped(1));
        QCOMPARE(axial.edgeLabels()[0], 'R');
        SliceGeometry coronal(lps, size, SliceOrientation::Coronal);
        QCOMPARE(coronal.sliceAxis(), 1);
        QVERIFY(!coronal.flipped(0) && coronal.flipped(1)); // superior at the top
        QCOMPARE(coronal.sliceSize()[1], std::int64_t(30));

        Geometry ras = lps; // NIfTI-style storage: i -> R, j -> A
        ras.direction = {-1, 0, 0, 0, -1, 0, 0, 0, 1};
        SliceGeometry rasAxial(ras, size, SliceOrientation::Axial);
        QVERIFY(rasAxial.flipped(0) && rasAxial.flipped(1));
        // The same anatomical point is at the same screen position in both storages.
        const auto a = axial.screenOf(std::array<std::int64_t, 3>{2, 3, 4});
        const auto b = rasAxial.screenOf(std::array<std::int64_t, 3>{10 - 1 - 2, 20 - 1 - 3, 4});
        QCOMPARE(a, b);

        Geometry psr = lps; // sagittal acquisition: i -> P, j -> S, k -> R (columns)
        psr.direction = {0, 0, -1, 1, 0, 0, 0, 1, 0};
        SliceGeometry psrAxial(psr, size, SliceOrientation::Axial);
        QCOMPARE(psrAxial.axis(0), 2);
        QCOMPARE(psrAxial.axis(1), 0);
        QCOMPARE(psrAxial.sliceAxis(), 1);
        QVERIFY(psrAxial.flipped(0) && !psrAxial.flipped(1));
        SliceGeometry psrSagittal(psr, size, SliceOrientation::Sagittal);
        QCOMPARE(psrSagittal.sliceAxis(), 2);
        QCOMPARE(psrSagittal.edgeLabels()[2], 'S');
        const auto v = psrSagittal.voxelAt(3, 4, 5);
        QCOMPARE(psrSagittal.screenOf(v), (std::array<std::int64_t, 3>{3, 4, 5}));
    }

    void sampleDataIsDeterministicAndPlausible()
    {
        SampleLesion a = makeSampleLesion(96, 7);
        SampleLesion b = makeSampleLesion(96, 7);
        QVERIFY(std::memcmp(a.image.rawData(), b.image.rawData(), a.image.byteSize()) == 0);
        std::size_t lesion = 0;
        for (std::size_t i = 0; i < a.mask.pixelCount(); ++i) {
            lesion += a.mask.data<std::uint8_t>()[i];
        }
        const double fraction = double(lesion) / a.mask.pixelCount();
        QVERIFY2(fraction > 0.05 && fraction < 0.6, qPrintable(QString::number(fraction)));

        SamplePhantom phantom = makeSamplePhantom(32, 2.0, 3);
        QVERIFY(phantom.labels.isAlignedWith(phantom.volume));
        QCOMPARE(phantom.labels.maxLabel(), 1);
    }
};

QTEST_GUILESS_MAIN(TestBaseTypes)
#include "TestBaseTypes.moc"
