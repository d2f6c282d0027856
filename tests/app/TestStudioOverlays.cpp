// The studio's view with each overlay, driven through the overlay panel, compared with committed
// baselines; the ensemble gallery, step acceptance and "next uncertain region" on a synthetic
// result (deterministic, unlike an untrained network's output on another CPU).

#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "MainWindow.h"
#include "MaskOps.h"
#include "PhotoMode.h"
#include "SegmentationRunner.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "image/SegmentationView2D.h"
#include "io/ImageWriter.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/OverlayPanel.h"
#include "steps/EnsembleGallery.h"
#include "uncertainty/UncertaintyMaps.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <QtTest>

#include <cmath>

using diffseg::app::SegmentationOutput;
using diffseg::widgets::SegmentationView2D;

namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 240;
constexpr int kSize = 64;
constexpr int kMembers = 3;
constexpr int kSteps = 5;

core::Image2D floatMap(const std::function<float(double, double)>& f)
{
    core::Image2D map(kSize, kSize, 1, core::PixelType::Float32);
    for (int y = 0; y < kSize; ++y) {
        for (int x = 0; x < kSize; ++x) {
            // Normalised image coordinates of the pixel centre.
            map.at<float>(x, y) = f((x + 0.5) / kSize, (y + 0.5) / kSize);
        }
    }
    return map;
}

/// A run whose members outline the synthetic lesion with slightly different radii, whose steps
/// go from noise to the result, and whose instability has two blobs of different sizes.
std::shared_ptr<SegmentationOutput> syntheticOutput(const core::Image2D& image)
{
    auto result = std::make_shared<core::SegmentResult>();
    result->originalWidth = kWidth;
    result->originalHeight = kHeight;
    result->inputSize = kSize;
    result->members = kMembers;
    result->timesteps = {40, 30, 20, 10, 0};
    for (int k = 0; k < kMembers; ++k) {
        const double radius = 0.9 + 0.12 * k;
        result->memberX0.push_back(floatMap([radius, k](double u, double v) {
            const double dx = (u - 0.45) / 0.28;
            const double dy = (v - 0.55) / 0.3 - (k == 2 ? 0.15 * std::sin(8 * u) : 0.0);
            const double d = std::sqrt(dx * dx + dy * dy);
            return static_cast<float>(std::clamp((radius - d) * 6.0, -1.0, 1.0));
        }));
    }
    result->meanX0 = core::ensembleMean(result->memberX0);
    std::vector<core::Image2D> p;
    for (const core::Image2D& x0 : result->memberX0) {
        p.push_back(core::probabilityFromX0(x0));
    }
    result->probability = core::ensembleMean(p);
    result->uncertaintyStd = core::ensembleStd(p);
    result->uncertaintyEntropy = core::binaryEntropy(result->probability);
    result->uncertaintyInstability = floatMap([](double u, double v) {
        const double a = std::hypot(u - 0.2, v - 0.25) / 0.1;
        const double b = std::hypot(u - 0.8, v - 0.75) / 0.06;
        return static_cast<float>(std::max(0.0, 1.0 - a * a) + std::max(0.0, 1.0 - b * b));
    });
    result->mask = diffseg::app::upsampleToMask(result->meanX0, kWidth, kHeight);
    result->maskInput = diffseg::app::upsampleToMask(result->meanX0, kSize, kSize);
    result->probabilityOriginal =
        diffseg::app::upsampleMap(result->probability, kWidth, kHeight, 1.0f);

    core::StepCacheConfig config = core::StepCacheConfig::forImage(kSize, kSize, kMembers, kSteps);
    config.storeNoisy = true;
    config.timesteps = result->timesteps;
    result->steps = std::make_shared<core::StepCache>(config);
    std::uint32_t state = 12345;
    auto noise = [&state] {
        state = state * 1664525u + 1013904223u;
        return static_cast<float>((state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
    };
    for (int step = 0; step < kSteps; ++step) {
        const float a = (step + 1) / static_cast<float>(kSteps);
        for (int k = 0; k < kMembers; ++k) {
            core::Image2D x0(kSize, kSize, 1, core::PixelType::Float32);
            core::Image2D xt(kSize, kSize, 1, core::PixelType::Float32);
            const float* final = result->memberX0[static_cast<std::size_t>(k)].data<float>();
            for (std::size_t i = 0; i < x0.pixelCount(); ++i) {
                const float n = noise();
                x0.data<float>()[i] = std::clamp((1 - a) * n * 1.5f + a * final[i], -1.0f, 1.0f);
                xt.data<float>()[i] = std::sqrt(a) * final[i] + std::sqrt(1 - a) * 2.0f * n;
            }
            result->steps->put(k, step, x0);
            result->steps->put(k, step, xt, core::FrameKind::Noisy);
        }
    }

    auto output = std::make_shared<SegmentationOutput>();
    output->model.path = "synthetic.dsckpt";
    output->model.id = "dsd-0000000000000000";
    output->model.inputSize = kSize;
    output->model.device = "cpu";
    output->outcome.settings.sampler = "ddim";
    output->outcome.settings.ensemble = kMembers;
    output->outcome.settings.eta = 0.0;
    output->outcome.settings.startFromOtsu = 0.0;
    output->uncertaintyDisplay = {
        diffseg::app::upsampleMap(result->uncertaintyStd, kWidth, kHeight, 2.0f),
        diffseg::app::upsampleMap(result->uncertaintyEntropy, kWidth, kHeight,
                                  static_cast<float>(1.0 / std::log(2.0))),
        diffseg::app::upsampleMap(result->uncertaintyInstability, kWidth, kHeight, 1.0f)};
    output->galleryImage = image;
    for (const core::Image2D& x0 : result->memberX0) {
        output->memberMasks.push_back(diffseg::app::upsampleToMask(x0, kWidth, kHeight));
    }
    output->galleryMasks = output->memberMasks;
    output->outcome.kind = core::InputKind::Photo;
    output->outcome.photo = result;
    return output;
}

} // namespace

class TestStudioOverlays : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    QString m_photo;
    std::unique_ptr<MainWindow> m_window;

    static QString text(const QAction* a) { return a->text().remove(QLatin1Char('&')); }

    QCheckBox* checkBox(const QString& label)
    {
        for (QCheckBox* c : m_window->photoMode()->overlayPanel()->findChildren<QCheckBox*>()) {
            if (c->text() == label) {
                return c;
            }
        }
        return nullptr;
    }

    void compareView(const QString& name)
    {
        SegmentationView2D* view = m_window->photoMode()->view();
        QApplication::processEvents();
        const QImage image = view->grab().toImage();
        const QString failure = test::checkAgainstBaseline(image, name);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        m_dir = test::studioScratchDir("studio-overlays");
        QDir(m_dir).mkpath("images");
        QDir(m_dir).mkpath("masks");
        m_photo = QDir(m_dir).filePath("images/synthetic.png");
        core::writeImage(test::syntheticPhoto(kWidth, kHeight), m_photo.toStdString());
        core::writeMaskPng(test::syntheticLesionMask(kWidth, kHeight),
                           QDir(m_dir).filePath("masks/synthetic_segmentation.png").toStdString());
    }

    void init()
    {
        m_window = std::make_unique<MainWindow>(test::testOptions(m_dir, "overlays"));
        m_window->photoMode()->view()->setFixedSize(400, 300);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        QVERIFY(m_window->openPath(m_photo, true));
        QVERIFY(m_window->photoMode()->view()->hasGroundTruth());
        m_window->photoMode()->presentResult(
            syntheticOutput(m_window->photoMode()->view()->image2D()));
        m_window->photoMode()->view()->fitToWindow();
    }

    void cleanup() { m_window.reset(); }

    void resultBecomesTheMaskWithLiveMetrics()
    {
        SegmentationView2D* view = m_window->photoMode()->view();
        QVERIFY(test::lesionPixels(view->mask()) > 1000);
        QCOMPARE(text(m_window->photoMode()->undoAction()),
                 QStringLiteral("Undo Accept AI result"));
        const double dice = diffseg::core::foregroundDice(view->mask(), view->groundTruth());
        auto* metrics = m_window->photoMode()->overlayPanel()->findChild<QLabel*>(
            QStringLiteral("liveMetrics"));
        QTRY_VERIFY2(metrics->text().contains(QString::number(dice, 'f', 3)),
                     qPrintable(metrics->text()));
        QVERIFY(!metrics->text().contains("Dashed"));
        // A dashed result waiting for Accept (here ensemble member 2) shows what accepting it
        // would score; without it the line goes.
        Q_EMIT m_window->photoMode()->ensembleGallery()->tileClicked(1);
        QVERIFY(view->hasPreview());
        const double pending = diffseg::core::foregroundDice(view->preview(), view->groundTruth());
        QTRY_VERIFY2(metrics->text().contains("Dashed result, if accepted: Dice " +
                                              QString::number(pending, 'f', 3)),
                     qPrintable(metrics->text()));
        QVERIFY(metrics->text().contains(QString::number(dice, 'f', 3)));
        Q_EMIT m_window->photoMode()->ensembleGallery()->tileClicked(-1);
        m_window->findChild<QAction*>(QStringLiteral("stepPreview"))->setChecked(false);
        QVERIFY(!view->hasPreview());
        QTRY_VERIFY2(!metrics->text().contains("Dashed"), qPrintable(metrics->text()));
        m_window->findChild<QAction*>(QStringLiteral("stepPreview"))->setChecked(true);
        QCOMPARE(m_window->photoMode()->stepBrowser()->availableSteps().size(),
                 std::size_t(kSteps));
        QCOMPARE(m_window->photoMode()->ensembleGallery()->members(), kMembers);
    }

    void viewWithEachOverlayMatchesBaselines()
    {
        // The step preview is off so that only the overlay under test is drawn.
        m_window->findChild<QAction*>(QStringLiteral("stepPreview"))->setChecked(false);
        checkBox("Ground truth")->setChecked(false);
        compareView("Studio_view_fill");
        checkBox("Mask fill")->setChecked(false);
        compareView("Studio_view_contour");
        checkBox("Ground truth")->setChecked(true);
        compareView("Studio_view_ground_truth");
        checkBox("Contour")->setChecked(false);
        checkBox("Ground truth")->setChecked(false);
        m_window->photoMode()->overlayPanel()->setHeatmapChoice(1);
        compareView("Studio_view_probability");
        m_window->photoMode()->overlayPanel()->setHeatmapChoice(2);
        compareView("Studio_view_uncertainty_std");
        m_window->photoMode()->overlayPanel()->setHeatmapChoice(3);
        compareView("Studio_view_uncertainty_entropy");
        m_window->photoMode()->overlayPanel()->setHeatmapChoice(4);
        compareView("Studio_view_uncertainty_instability");
        m_window->photoMode()->overlayPanel()->setHeatmapChoice(0);
        checkBox("Contour")->setChecked(true);
        m_window->findChild<QAction*>(QStringLiteral("stepPreview"))->setChecked(true);
        m_window->photoMode()->stepBrowser()->setCurrentStep(1);
        compareView("Studio_view_step_preview");
    }

    void galleryTilesAndStepsAreAcceptedAsOneUndoStep()
    {
        SegmentationView2D* view = m_window->photoMode()->view();
        Q_EMIT m_window->photoMode()->ensembleGallery()->tileClicked(2);
        QVERIFY(view->hasPreview());
        m_window->photoMode()->acceptAiResult();
        QCOMPARE(text(m_window->photoMode()->undoAction()),
                 QStringLiteral("Undo Accept AI result"));
        const core::Image2D member = diffseg::app::upsampleToMask(
            syntheticOutput(view->image2D())->photo()->memberX0[2], kWidth, kHeight);
        QVERIFY(std::memcmp(view->mask().rawData(), member.rawData(), member.byteSize()) == 0);

        m_window->photoMode()->stepBrowser()->setCurrentStep(1);
        auto* accept =
            m_window->photoMode()->stepBrowser()->findChild<QPushButton*>("acceptStepButton");
        QTest::mouseClick(accept, Qt::LeftButton);
        QCOMPARE(text(m_window->photoMode()->undoAction()), QStringLiteral("Undo Use step 2"));
        const std::size_t early = test::lesionPixels(view->mask());
        m_window->photoMode()->view()->undo();
        QVERIFY(std::memcmp(view->mask().rawData(), member.rawData(), member.byteSize()) == 0);
        QVERIFY(early != test::lesionPixels(member));
    }

    void nextUncertainRegionVisitsTheLargestFirst()
    {
        SegmentationView2D* view = m_window->photoMode()->view();
        m_window->photoMode()->overlayPanel()->setHeatmapChoice(4); // step instability: two blobs
        const auto& regions = m_window->photoMode()->uncertainRegions();
        QCOMPARE(regions.size(), std::size_t(2));
        QVERIFY(regions[0].voxels > regions[1].voxels);
        const double fit = view->zoom();
        QVERIFY(m_window->photoMode()->nextUncertainRegion());
        QVERIFY(view->zoom() > fit * 1.5);
        const QPointF centre =
            view->widgetToImage(QPointF(view->width() / 2.0, view->height() / 2.0));
        // The larger blob is at (0.2, 0.25) of the image.
        QVERIFY2(std::abs(centre.x() - 0.2 * kWidth) < 12 &&
                     std::abs(centre.y() - 0.25 * kHeight) < 12,
                 qPrintable(QString("%1 %2").arg(centre.x()).arg(centre.y())));
        QVERIFY(!view->highlight().isEmpty());
        QVERIFY(view->highlight().contains(QPointF(0.2 * kWidth, 0.25 * kHeight)));
        compareView("Studio_view_region");
        QVERIFY(m_window->photoMode()->nextUncertainRegion());
        const QPointF second =
            view->widgetToImage(QPointF(view->width() / 2.0, view->height() / 2.0));
        QVERIFY(std::abs(second.x() - 0.8 * kWidth) < 12 &&
                std::abs(second.y() - 0.75 * kHeight) < 12);
        // All reviewed: N starts again with the largest.
        QVERIFY(m_window->photoMode()->nextUncertainRegion());
        QVERIFY(view->highlight().contains(QPointF(0.2 * kWidth, 0.25 * kHeight)));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStudioOverlays)

#include "TestStudioOverlays.moc"
