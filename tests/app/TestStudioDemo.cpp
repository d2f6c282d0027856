// The first five minutes: diffseg-studio's demo (File > Open the demo, and what the studio opens
// when started without a file) shows a generated dermoscopy photo with its ground truth and the
// packaged demo model selected, so that one click on Segment runs it and the steps then play.
// The packaged model is stood in for by a tiny freshly initialised checkpoint in a resource folder
// of the test's own ($DIFFSEG_RESOURCE_DIR), so the test is fast and does not depend on the
// trained demo weights.

#include "AboutText.h"
#include "DemoPhoto.h"
#include "MainWindow.h"
#include "MenuActions.h"
#include "PhotoMode.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyCheckpoint.h"
#include "data/DemoData.h"
#include "engine/Precision.h"
#include "image/SegmentationView2D.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "panels/ModelPanel.h"
#include "runtime/ResourcePaths.h"
#include "runtime/Runtime.h"
#include "steps/StepBrowser.h"

#include <QAction>
#include <QComboBox>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cstdint>

class TestStudioDemo : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QString m_resources; ///< a resource folder with models/dermoscopy-demo.dsckpt (tiny)
    QString m_empty;     ///< a resource folder without models

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        QStandardPaths::setTestModeEnabled(true); // the demo photo goes to a test cache folder
        QVERIFY(m_tmp.isValid());
        m_resources = m_tmp.filePath(QStringLiteral("resources"));
        m_empty = m_tmp.filePath(QStringLiteral("empty"));
        QVERIFY(QDir().mkpath(m_resources + QStringLiteral("/models")));
        QVERIFY(QDir().mkpath(m_empty));
        test::writeTinyCheckpoint(m_resources + QStringLiteral("/models/dermoscopy-demo.dsckpt"));
    }

    void cleanup() { qunsetenv("DIFFSEG_RESOURCE_DIR"); }

    void demoOpensPhotoGroundTruthAndModel()
    {
        qputenv("DIFFSEG_RESOURCE_DIR", m_resources.toUtf8());
        const QString model =
            QFileInfo(m_resources + QStringLiteral("/models/dermoscopy-demo.dsckpt"))
                .absoluteFilePath();
        QCOMPARE(diffseg::app::demoModelPath(), model);

        MainWindow window(test::testOptions(m_tmp.path(), QStringLiteral("demo")));
        window.resize(1280, 800);
        window.show();
        QAction* open =
            test::findMenuAction(window, QStringLiteral("File"), QStringLiteral("openDemo"));
        QVERIFY(open);
        QVERIFY(!open->toolTip().isEmpty());
        open->trigger();
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));

        // The photo is the generator's image for the demo seed, written as a file that opens
        // like any other (so Save, the report and recent files work as usual).
        const QString photo = window.currentPath();
        QVERIFY2(photo.endsWith(QStringLiteral("/demo/images/demo_10000.png")), qPrintable(photo));
        QVERIFY(photo.startsWith(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)));
        const core::DermoscopyDemo demo = core::generateDermoscopyDemo(512, 512, 10000);
        const core::Image2D read = core::readImage(photo.toStdString());
        QCOMPARE(read.width(), 512);
        QCOMPARE(read.height(), 512);
        QCOMPARE(read.channels(), 3);
        QVERIFY(std::equal(read.data<std::uint8_t>(), read.data<std::uint8_t>() + read.byteSize(),
                           demo.image.data<std::uint8_t>()));
        // Its ground truth was found next to it (../masks) and is the generator's lesion.
        auto* view = window.photoMode()->view();
        QVERIFY(view->hasGroundTruth());
        QCOMPARE(test::lesionPixels(view->groundTruth()), test::lesionPixels(demo.mask));
        QVERIFY(test::lesionPixels(demo.mask) > 1000);

        // The demo model is listed and selected; the status bar says what to press.
        QCOMPARE(window.photoMode()->modelPanel()->currentCheckpoint(), model);
        QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("Ctrl+R")),
                 qPrintable(window.statusBar()->currentMessage()));

        // One click on Segment runs it; when it has ended, the steps play.
        auto r = window.photoMode()->modelPanel()->options();
        r.sampler = "ddim";
        r.steps = 4;
        r.ensemble = 2;
        window.photoMode()->modelPanel()->setOptions(r);
        QVERIFY(!window.photoMode()->stepBrowser()->isPlaying());
        QSignalSpy ended(&window, &MainWindow::segmentationEnded);
        // Connected after the demo's own slot, so it sees what that slot did.
        QList<bool> playingAtEnd;
        connect(&window, &MainWindow::segmentationEnded, this,
                [&] { playingAtEnd.append(window.photoMode()->stepBrowser()->isPlaying()); });
        auto* segment = window.photoMode()->modelPanel()->findChild<QPushButton*>(
            QStringLiteral("segmentButton"));
        QVERIFY(segment && segment->isEnabled());
        QTest::mouseClick(segment, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 120000);
        QCOMPARE(ended.first().first().toBool(), true);
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QCOMPARE(playingAtEnd, QList<bool>{true});
        window.photoMode()->stepBrowser()->setPlaying(false);

        // A second run on the same photo does not restart the film by itself (only the demo's
        // first run does).
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 2, 120000);
        QCOMPARE(playingAtEnd, (QList<bool>{true, false}));
    }

    void realModelOpensARealCreditedPhoto()
    {
        // A resource folder with a real photo model (a tiny stand-in of the same name) and the
        // real demo photo with its mask: the demo opens that photo, credits it, selects that
        // model; the demo model is then not the default.
        const QString resources = m_tmp.filePath(QStringLiteral("real"));
        QVERIFY(QDir().mkpath(resources + QStringLiteral("/models")));
        QVERIFY(QDir().mkpath(resources + QStringLiteral("/demo/masks")));
        test::writeTinyCheckpoint(resources + QStringLiteral("/models/dermoscopy-demo.dsckpt"));
        test::writeTinyCheckpoint(resources + QStringLiteral("/models/dermoscopy-isic2018.dsckpt"));
        const core::DermoscopyDemo demo = core::generateDermoscopyDemo(200, 150, 3);
        core::writeImage(demo.image, (resources + "/demo/ISIC_0000001.jpg").toStdString());
        core::writeMaskPng(demo.mask,
                           (resources + "/demo/masks/ISIC_0000001_segmentation.png").toStdString());
        qputenv("DIFFSEG_RESOURCE_DIR", resources.toUtf8());
        QVERIFY(
            diffseg::app::demoModelPath().endsWith(QStringLiteral("dermoscopy-isic2018.dsckpt")));
        MainWindow window(test::testOptions(m_tmp.path(), QStringLiteral("real")));
        window.show();
        QVERIFY(window.openDemo());
        QVERIFY(window.currentPath().endsWith(QStringLiteral("/demo/ISIC_0000001.jpg")));
        QVERIFY(window.photoMode()->view()->hasGroundTruth());
        QVERIFY2(window.windowTitle().contains(QStringLiteral("ISIC 2018")) &&
                     window.windowTitle().contains(QStringLiteral("CC BY-NC")),
                 qPrintable(window.windowTitle()));
        QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("ISIC Archive")),
                 qPrintable(window.statusBar()->currentMessage()));
        QVERIFY(window.photoMode()->modelPanel()->currentCheckpoint().endsWith(
            QStringLiteral("dermoscopy-isic2018.dsckpt")));
    }

    void demoWithoutModelStillOpensAndSaysSo()
    {
        qputenv("DIFFSEG_RESOURCE_DIR", m_empty.toUtf8());
        QVERIFY(diffseg::app::demoModelPath().isEmpty());
        MainWindow window(test::testOptions(m_tmp.path(), QStringLiteral("nomodel")));
        window.show();
        QVERIFY(window.openDemo());
        QVERIFY(window.photoMode()->view()->hasGroundTruth());
        QVERIFY(window.photoMode()->modelPanel()->currentCheckpoint().isEmpty());
        QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("not installed")),
                 qPrintable(window.statusBar()->currentMessage()));
    }

    void packagedModelsAreListedWithoutOpeningTheDemo()
    {
        qputenv("DIFFSEG_RESOURCE_DIR", m_resources.toUtf8());
        MainWindow window(test::testOptions(m_tmp.path(), QStringLiteral("listed")));
        window.openSamples();
        auto* box = window.photoMode()->modelPanel()->findChild<QComboBox*>(
            QStringLiteral("checkpointBox"));
        QVERIFY(box);
        bool listed = false;
        for (int i = 0; i < box->count(); ++i) {
            listed = listed || box->itemText(i).contains(QStringLiteral("dermoscopy-demo"));
        }
        QVERIFY(listed);
    }

    void precisionChoiceIsKeptAndReachesTheRun()
    {
        const QString settings = m_tmp.path() + QStringLiteral("/precision.ini");
        {
            diffseg::app::MainWindowOptions options =
                test::testOptions(m_tmp.path(), QStringLiteral("p1"));
            options.settingsFile = settings;
            MainWindow window(options);
            QAction* automatic = window.findChild<QAction*>(QStringLiteral("precision_auto"));
            QAction* fp32 = window.findChild<QAction*>(QStringLiteral("precision_fp32"));
            QAction* bf16 = window.findChild<QAction*>(QStringLiteral("precision_bf16"));
            QVERIFY(automatic && fp32 && bf16);
            QVERIFY(automatic->isChecked()); // the default
            // The automatic choice says what it picks on this processor.
            QVERIFY(automatic->text().contains(core::engine::cpuHasNativeBf16() ? "bf16" : "fp32"));
            fp32->trigger();
        }
        // Kept across restarts.
        diffseg::app::MainWindowOptions options =
            test::testOptions(m_tmp.path(), QStringLiteral("p2"));
        options.settingsFile = settings;
        MainWindow window(options);
        QVERIFY(window.findChild<QAction*>(QStringLiteral("precision_fp32"))->isChecked());
        QCOMPARE(window.settings().value(QStringLiteral("models/precision")).toString(),
                 QStringLiteral("fp32"));
    }

    void aboutNamesThePackagedModelsAndTheirTerms()
    {
        const QString text = diffseg::app::aboutText();
        QVERIFY2(text.contains(QStringLiteral("Packaged models")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("not a medical device")));
    }

    void cudaChoiceSaysWhenThereIsNoGpu()
    {
        MainWindow window(test::testOptions(m_tmp.path(), QStringLiteral("gpu")));
        QAction* cuda = window.findChild<QAction*>(QStringLiteral("device_cuda"));
        QVERIFY(cuda);
        if (core::libraryVersions().cudaAvailable) {
            QVERIFY(cuda->isEnabled());
        } else {
            QVERIFY(!cuda->isEnabled());
            QVERIFY(cuda->text().contains(QStringLiteral("none found")));
            QVERIFY(cuda->toolTip().contains(QStringLiteral("CPU")));
        }
    }
};

QTEST_MAIN(TestStudioDemo)
#include "TestStudioDemo.moc"
