// Figures for the README's GUI section, measured in the real window under Xvfb: the time from a
// step change to the repaint, the latency of a brush stroke on a 4000 x 3000 photo, and the
// memory while browsing every step of a K = 5, 50-step run. Printed with qInfo ("FIGURE ...");
// the asserts only check that the workflow did what was measured.

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "MaskOps.h"
#include "PhotoMode.h"
#include "SegmentationRunner.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyCheckpoint.h"
#include "image/ImageView.h"
#include "image/SegmentationView2D.h"
#include "io/ImageWriter.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/ModelPanel.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QMouseEvent>
#include <QtTest>

#include <algorithm>
#include <numeric>

using diffseg::widgets::SegmentationView2D;
using diffseg::widgets::StepBrowser;

namespace {

/// A /proc/self/status field in MiB (VmRSS, VmHWM).
double statusMiB(const char* field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (line.startsWith(field)) {
            return line.mid(static_cast<int>(qstrlen(field)) + 1)
                       .trimmed()
                       .split(' ')
                       .first()
                       .toDouble() /
                   1024.0;
        }
    }
    return -1;
}

/// Resets the peak RSS so that VmHWM measures from now on (Linux >= 4.0).
bool resetPeak()
{
    QFile f(QStringLiteral("/proc/self/clear_refs"));
    return f.open(QIODevice::WriteOnly) && f.write("5") == 1;
}

struct Stats
{
    double median = 0;
    double p95 = 0;
    double max = 0;
    double mean = 0;
};

Stats stats(std::vector<double> v)
{
    Stats s;
    if (v.empty()) {
        return s;
    }
    std::sort(v.begin(), v.end());
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, static_cast<std::size_t>(v.size() * 0.95))];
    s.max = v.back();
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    return s;
}

double msSince(const QElapsedTimer& t)
{
    return t.nsecsElapsed() / 1e6;
}

} // namespace

class TestStudioFigures : public QObject
{
    Q_OBJECT

private:
    QString m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        m_dir = test::studioScratchDir("studio-figures");
    }

    void stepBrowsingLatencyAndMemory()
    {
        QString photo = test::sharedPath("data/dermoscopy/isic2017/images/ISIC_0012099.jpg");
        if (photo.isEmpty()) {
            photo = QDir(m_dir).filePath("photo.jpg");
            core::writeImage(test::syntheticPhoto(3008, 2000), photo.toStdString());
        }
        // A 50-step schedule sampled with DDPM; 64 x 64 input by default (DIFFSEG_FIGURES_INPUT=128
        // for the reference models' size, four times the sampling time).
        const int input = qEnvironmentVariableIntValue("DIFFSEG_FIGURES_INPUT") > 0
                              ? qEnvironmentVariableIntValue("DIFFSEG_FIGURES_INPUT")
                              : 64;
        const QString checkpoint =
            test::writeTinyCheckpoint(QDir(m_dir).filePath("tiny.dsckpt"), input, 50, 7);
        MainWindow window(test::testOptions(m_dir, "figures"));
        window.resize(1440, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openPath(photo, true));
        window.addModel(checkpoint);
        core::SegmentationRequest r = window.photoMode()->modelPanel()->options();
        r.sampler = "ddpm";
        r.ensemble = 5;
        r.seed = 1;
        window.photoMode()->modelPanel()->setOptions(r);
        const double rssBefore = statusMiB("VmRSS:");

        // While sampling: how many frames reached the GUI and how often it served a 10 ms timer.
        int ticks = 0;
        QTimer heartbeat;
        connect(&heartbeat, &QTimer::timeout, [&] { ++ticks; });
        int framesShown = 0;
        connect(window.photoMode()->stepBrowser(), &StepBrowser::frameChanged,
                [&] { ++framesShown; });
        QElapsedTimer sampling;
        sampling.start();
        heartbeat.start(10);
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 600000);
        heartbeat.stop();
        const double seconds = sampling.elapsed() / 1000.0;
        QVERIFY(window.photoMode()->runner()->output());
        const auto& result = *window.photoMode()->runner()->output()->photo();
        QCOMPARE(int(result.timesteps.size()), 50);
        qInfo("FIGURE sampling: K=5, DDPM 50 steps, %dx%d input, %dx%d photo: %.1f s wall, "
              "%.1f s sampling, first preview %.2f s; %d steps produced, %d notifications "
              "coalesced, %d frames shown; GUI served a 10 ms timer %d times (%.0f %%)",
              input, input, result.originalWidth, result.originalHeight, seconds,
              result.timings.sampling, result.timings.firstPreview,
              window.photoMode()->runner()->stepsProduced(),
              window.photoMode()->runner()->progressSkipped(), framesShown, ticks,
              100.0 * ticks / std::max(1.0, seconds * 100.0));
        const double rssAfterRun = statusMiB("VmRSS:");

        // Step change -> repaint of the image view (preview outline at full size) and the step
        // pane, for every step, in each display mode.
        StepBrowser* browser = window.photoMode()->stepBrowser();
        browser->setFollowing(false);
        auto* modeBox = browser->findChild<QComboBox*>(QStringLiteral("modeBox"));
        auto* memberBox = browser->findChild<QComboBox*>(QStringLiteral("memberBox"));
        SegmentationView2D* view = window.photoMode()->view();
        QVERIFY(resetPeak());
        std::vector<double> handler;
        std::vector<double> total;
        for (int mode = 0; mode < 3; ++mode) {
            for (int member : {0, 1}) { // mean, member 1
                modeBox->setCurrentIndex(mode);
                memberBox->setCurrentIndex(member);
                Q_EMIT modeBox->activated(mode);
                for (int i = 0; i < 50; ++i) {
                    // Jumps across the run, not only to neighbours; never the step shown.
                    int s = (i * 17 + mode * 7 + member * 3) % 50;
                    if (s == window.photoMode()->shownStep()) {
                        s = (s + 1) % 50;
                    }
                    const double ms = test::msUntilPainted(view, [&] {
                        QElapsedTimer t;
                        t.start();
                        browser->setCurrentStep(s);
                        handler.push_back(msSince(t));
                    });
                    QVERIFY2(ms >= 0, qPrintable(QString("step %1 was not repainted").arg(s)));
                    total.push_back(ms);
                    QCOMPARE(window.photoMode()->shownStep(), s);
                }
            }
        }
        const Stats h = stats(handler);
        const Stats all = stats(total);
        const double peak = statusMiB("VmHWM:");
        qInfo("FIGURE step change -> view repainted (%zu switches over 50 steps x 3 modes x "
              "mean/member 1, %dx%d photo, view %dx%d): median %.1f ms, p95 %.1f ms, max %.1f ms "
              "(of which the step's frame, thumbnails and preview outline: median %.1f ms, p95 "
              "%.1f ms)",
              total.size(), result.originalWidth, result.originalHeight, view->width(),
              view->height(), all.median, all.p95, all.max, h.median, h.p95);
        qInfo("FIGURE memory: RSS %.0f MiB with the photo open, %.0f MiB after the run, peak "
              "%.0f MiB while browsing every step (step cache %.1f MiB for 50 steps x 5 members "
              "x (x0 + x_t) at %dx%d)",
              rssBefore, rssAfterRun, peak, result.steps->bytesUsed() / 1048576.0, input, input);
    }

    void brushLatencyOn12Megapixels()
    {
        const QString photo = QDir(m_dir).filePath("large.jpg");
        core::writeImage(test::syntheticPhoto(4000, 3000), photo.toStdString());
        MainWindow window(test::testOptions(m_dir, "brush"));
        window.resize(1440, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QElapsedTimer open;
        open.start();
        QVERIFY(window.openPath(photo, true));
        const double openMs = msSince(open);
        SegmentationView2D* view = window.photoMode()->view();
        view->setTool(SegmentationView2D::Tool::Brush);
        view->setBrushRadius(40);
        QApplication::processEvents();

        auto stroke = [&](double zoom, std::vector<double>& moves, double& release) {
            view->fitToWindow();
            if (zoom > 0) {
                view->zoomBy(zoom / view->zoom(),
                             QPointF(view->width() / 2.0, view->height() / 2.0));
            }
            QApplication::processEvents();
            const QPointF start(view->width() * 0.25, view->height() * 0.4);
            const QPoint p0 = start.toPoint();
            QTest::mousePress(view, Qt::LeftButton, Qt::NoModifier, p0);
            QApplication::processEvents();
            QPoint p = p0;
            for (int i = 1; i <= 100; ++i) {
                p = (start + QPointF(i * 4.0, (i % 20) * 2.0)).toPoint();
                const double ms = test::msUntilPainted(view, [&] {
                    QMouseEvent move(QEvent::MouseMove, p, view->mapToGlobal(QPointF(p)),
                                     Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
                    QApplication::sendEvent(view, &move);
                });
                QVERIFY2(ms >= 0, qPrintable(QString("move %1 was not repainted").arg(i)));
                moves.push_back(ms);
            }
            release = test::msUntilPainted(
                view, [&] { QTest::mouseRelease(view, Qt::LeftButton, Qt::NoModifier, p); });
        };
        std::vector<double> fitMoves;
        std::vector<double> zoomMoves;
        double fitRelease = 0;
        double zoomRelease = 0;
        stroke(0, fitMoves, fitRelease);
        stroke(1.0, zoomMoves, zoomRelease);
        QCOMPARE(view->undoStack().undoCount(), std::size_t(2));
        const Stats f = stats(fitMoves);
        const Stats z = stats(zoomMoves);
        // Live Dice against a full-size mask: what every edit costs on top.
        const core::Image2D gt = test::syntheticLesionMask(4000, 3000);
        QElapsedTimer diceTimer;
        diceTimer.start();
        const diffseg::core::ConfusionCounts counts =
            diffseg::core::foregroundCounts(view->mask(), gt);
        const double diceMs = msSince(diceTimer);
        QVERIFY(counts.total() == 12000000u);
        qInfo("FIGURE brush on a 4000x3000 photo (radius 40 px, 100 mouse moves per stroke, view "
              "%dx%d): per move incl. repaint, fitted view median %.2f ms, p95 %.2f ms, max %.2f "
              "ms; at 100 %% zoom median %.2f ms, p95 %.2f ms, max %.2f ms; end of stroke (undo "
              "step + outline of the whole mask) %.0f ms fitted, %.0f ms at 100 %%; opening the "
              "photo %.0f ms; live Dice/IoU on 12 MP %.1f ms",
              view->width(), view->height(), f.median, f.p95, f.max, z.median, z.p95, z.max,
              fitRelease, zoomRelease, openMs, diceMs);
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStudioFigures)

#include "TestStudioFigures.moc"
