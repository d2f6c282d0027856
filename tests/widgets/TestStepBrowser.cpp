#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "steps/Filmstrip.h"
#include "steps/StepBrowser.h"

#include <QComboBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using diffseg::widgets::Filmstrip;
using diffseg::widgets::StepBrowser;

class TestStepBrowser : public QObject
{
    Q_OBJECT

private:
    int m_requests = 0;

    StepBrowser::FrameProvider provider()
    {
        return [this](int step, int, diffseg::widgets::StepView, const QSize& size) {
            ++m_requests;
            QImage image(size, QImage::Format_RGB32);
            image.fill(QColor::fromHsv((step * 7) % 360, 200, 200));
            return image;
        };
    }

private Q_SLOTS:
    void followsNewStepsWhileSampling()
    {
        StepBrowser browser(StepBrowser::Setup::photos());
        browser.setFrameProvider(provider());
        browser.reset(50, 5);
        QSignalSpy frames(&browser, &StepBrowser::frameChanged);
        for (int s = 0; s < 20; ++s) {
            browser.appendStep(s);
        }
        QCOMPARE(browser.currentStep(), 19);
        QCOMPARE(frames.count(), 20);
        QCOMPARE(browser.member(), -1); // the ensemble mean by default

        // Going back stops following; new steps no longer move the view.
        browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        QTest::keyClick(&browser, Qt::Key_Left);
        QCOMPARE(browser.currentStep(), 18);
        QVERIFY(!browser.following());
        browser.appendStep(20);
        QCOMPARE(browser.currentStep(), 18);
        QTest::keyClick(&browser, Qt::Key_End);
        QCOMPARE(browser.currentStep(), 20);
        QTest::keyClick(&browser, Qt::Key_Home);
        QCOMPARE(browser.currentStep(), 0);
        QTest::keyClick(&browser, Qt::Key_PageDown);
        QCOMPARE(browser.currentStep(), 2);
    }

    void showsOnlyAvailableStepsAndSnapsToTheNearest()
    {
        StepBrowser browser(StepBrowser::Setup::photos());
        browser.reset(250, 1);
        browser.setAvailableSteps({0, 10, 20, 100, 249});
        browser.setCurrentStep(90);
        QCOMPARE(browser.currentStep(), 100);
        browser.nextStep();
        QCOMPARE(browser.currentStep(), 249);
        browser.previousStep();
        QCOMPARE(browser.currentStep(), 100);
    }

    void playsToTheEndAndStops()
    {
        StepBrowser browser(StepBrowser::Setup::photos());
        browser.reset(6, 1);
        browser.setAvailableSteps({0, 1, 2, 3, 4, 5});
        browser.firstStep();
        browser.setPlaying(true);
        QVERIFY(QTest::qWaitFor([&] { return !browser.isPlaying(); }, 5000));
        QCOMPARE(browser.currentStep(), 5);
    }

    void filmstripClicksSelectSteps()
    {
        StepBrowser browser(StepBrowser::Setup::photos());
        browser.setFrameProvider(provider());
        browser.resize(700, 160);
        browser.reset(100, 1);
        std::vector<int> all(100);
        for (int i = 0; i < 100; ++i) {
            all[static_cast<std::size_t>(i)] = i;
        }
        browser.setAvailableSteps(all);
        browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        auto* strip = browser.findChild<Filmstrip*>();
        QVERIFY(strip);
        const std::vector<int> shown = strip->shownSteps();
        QVERIFY(shown.size() >= 5);
        QCOMPARE(shown.front(), 0);
        QCOMPARE(shown.back(), 99);
        QVERIFY(m_requests >= static_cast<int>(shown.size()));
        // Click the third thumbnail.
        const int slot = strip->height() - 8 + 4;
        QTest::mouseClick(strip, Qt::LeftButton, {},
                          QPoint(4 + 2 * slot + slot / 2, strip->height() / 2));
        QCOMPARE(browser.currentStep(), shown[2]);
    }

    void acceptAndOptionsEmitTheChosenMember()
    {
        StepBrowser browser(StepBrowser::Setup::photos());
        browser.reset(10, 3);
        browser.setAvailableSteps({0, 5, 9});
        browser.setCurrentStep(5);
        auto* member = browser.findChild<QComboBox*>("memberBox");
        QVERIFY(member);
        QSignalSpy frames(&browser, &StepBrowser::frameChanged);
        member->setCurrentIndex(2); // member 2 (index 0 is the mean)
        Q_EMIT member->activated(2);
        QCOMPARE(frames.count(), 1);
        QCOMPARE(frames.last().at(1).toInt(), 1);
        QSignalSpy accept(&browser, &StepBrowser::acceptStepRequested);
        browser.findChild<QPushButton*>("acceptStepButton")->click();
        QCOMPARE(accept.count(), 1);
        QCOMPARE(accept.last().at(0).toInt(), 5);
        QCOMPARE(accept.last().at(1).toInt(), 1);
    }

    void aVolumeModelsStepsOfferItsOwnViews()
    {
        // Diff-UNet has no ensemble: no member box; its steps show a label map or a probability,
        // and may preview in the slice views and as the 3D surface.
        StepBrowser browser(StepBrowser::Setup::volumes());
        browser.reset(4);
        QVERIFY(!browser.findChild<QComboBox*>("memberBox"));
        QVERIFY(!browser.findChild<QComboBox*>("modeBox"));
        auto* views = browser.findChild<QComboBox*>("volumeStepShow");
        QVERIFY(views);
        QCOMPARE(views->count(), 2);
        QCOMPARE(browser.view(), diffseg::widgets::StepView::Labels);
        QVERIFY(browser.previewInViews());
        QVERIFY(!browser.surfaceIn3d());
        browser.setAvailableSteps({0, 1, 2, 3});
        browser.setCurrentStep(2);
        QSignalSpy frames(&browser, &StepBrowser::frameChanged);
        browser.setView(diffseg::widgets::StepView::Probability);
        QCOMPARE(frames.count(), 1);
        QCOMPARE(frames.last().at(0).toInt(), 2);
        QCOMPARE(frames.last().at(1).toInt(), -1);
        QCOMPARE(frames.last().at(2).value<diffseg::widgets::StepView>(),
                 diffseg::widgets::StepView::Probability);
        // A photo view a volume model does not offer is ignored.
        browser.setView(diffseg::widgets::StepView::Noisy);
        QCOMPARE(browser.view(), diffseg::widgets::StepView::Probability);
        QSignalSpy surface(&browser, &StepBrowser::surfaceIn3dToggled);
        browser.setSurfaceIn3d(true);
        QCOMPARE(surface.count(), 1);
        QSignalSpy accept(&browser, &StepBrowser::acceptStepRequested);
        browser.findChild<QPushButton*>("volumeAcceptStep")->click();
        QCOMPARE(accept.count(), 1);
        QCOMPARE(accept.last().at(0).toInt(), 2);
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStepBrowser)

#include "TestStepBrowser.moc"
