#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "image/ColorMap.h"
#include "image/ImageConversion.h"
#include "panels/ReportWriter.h"

#include <QFile>
#include <QtTest>

using diffseg::widgets::ReportContent;
using diffseg::widgets::ReportWriter;

class TestReportWriter : public QObject
{
    Q_OBJECT

private:
    static ReportContent content()
    {
        const auto sample = diffseg::core::makeSampleLesion(256, 9);
        ReportContent c;
        c.title = QStringLiteral("Lesion segmentation");
        c.source = QStringLiteral("sample lesion (generated)");
        c.overlay = diffseg::widgets::toQImage(sample.image).copy();
        c.uncertainty =
            diffseg::widgets::ColorMap(diffseg::widgets::ColorMap::Name::Inferno).strip(256, 256);
        c.uncertaintyCaption = QStringLiteral("Predictive entropy of the ensemble mean");
        c.legend =
            diffseg::widgets::ColorMap(diffseg::widgets::ColorMap::Name::Inferno).strip(256, 8);
        c.metrics = {{"Dice", "0.912"}, {"IoU", "0.838"}, {"HD95", "4.1 px"}};
        c.settings = {{"Model", "tiny.dsgm"}, {"Sampler", "DDIM 25 steps"}, {"Ensemble", "5"}};
        c.notes = QStringLiteral("Accepted step 25 of 25; 2 manual edits.");
        return c;
    }

private Q_SLOTS:
    void writesPdfAndPng()
    {
        const QString dir = diffseg::test::scratchDir("report");
        const QString pdf = dir + "/report.pdf";
        QCOMPARE(ReportWriter::writePdf(content(), pdf), QString());
        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.read(5) == "%PDF-");
        QVERIFY(f.size() > 20000);
        const QString png = dir + "/report.png";
        QCOMPARE(ReportWriter::writePng(content(), png, 840), QString());
        const QImage image(png);
        QCOMPARE(image.width(), 840);
        QCOMPARE(image.height(), 1188);
        image.save(QDir(diffseg::test::outputDir()).filePath("Report_sample.png"));
    }

    void reportsUnwritablePaths()
    {
        const QString bad = "/nonexistent-dir-diffseg/report.pdf";
        const QString message = ReportWriter::writePdf(content(), bad);
        QVERIFY(message.contains(bad));
        QVERIFY(!ReportWriter::writePng(content(), "/nonexistent-dir-diffseg/r.png").isEmpty());
    }
};

DIFFSEG_GUI_TEST_MAIN(TestReportWriter)

#include "TestReportWriter.moc"
