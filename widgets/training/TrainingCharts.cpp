#include "TrainingCharts.h"

#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QPen>
#include <QTimer>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace diffseg::widgets {

namespace {

/// Drawn points per curve at most; more are thinned by a stride (the data stays whole).
constexpr std::size_t kMaxShownPoints = 2000;

int indexOf(TrainingCharts::Series s)
{
    return static_cast<int>(s);
}

QValueAxis* makeAxis(const QString& title, QChart* chart, Qt::Alignment side)
{
    auto* axis = new QValueAxis(chart);
    axis->setTitleText(title);
    QFont font = axis->labelsFont();
    font.setPointSizeF(font.pointSizeF() * 0.85);
    axis->setLabelsFont(font);
    axis->setTitleFont(font);
    axis->setLabelFormat(QStringLiteral("%.3g"));
    axis->setTickCount(5);
    chart->addAxis(axis, side);
    return axis;
}

QChart* makeChart(const QString& title)
{
    auto* chart = new QChart;
    chart->setTitle(title);
    QFont font = chart->titleFont();
    font.setBold(true);
    chart->setTitleFont(font);
    // Animations replay on every batch of points: a live chart would never stand still.
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QFont legend = chart->legend()->font();
    legend.setPointSizeF(legend.pointSizeF() * 0.85);
    chart->legend()->setFont(legend);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->setBackgroundRoundness(0);
    return chart;
}

QLineSeries* makeSeries(const QString& name, const QColor& color, qreal width, bool points)
{
    auto* series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(width);
    series->setPen(pen);
    series->setPointsVisible(points);
    return series;
}

/// Every point when there are few, else every k-th and always the last one.
QList<QPointF> thinned(const std::vector<QPointF>& points)
{
    QList<QPointF> out;
    if (points.size() <= kMaxShownPoints) {
        out.reserve(static_cast<qsizetype>(points.size()));
        for (const QPointF& p : points) {
            out.append(p);
        }
        return out;
    }
    const std::size_t stride = (points.size() + kMaxShownPoints - 1) / kMaxShownPoints;
    out.reserve(static_cast<qsizetype>(points.size() / stride + 2));
    for (std::size_t i = 0; i < points.size(); i += stride) {
        out.append(points[i]);
    }
    if ((points.size() - 1) % stride != 0) {
        out.append(points.back());
    }
    return out;
}

/// The smallest of 1, 2 and 5 times a power of ten that is at least `raw` (a tick interval
/// people read at a glance).
double niceInterval(double raw)
{
    if (!(raw > 0.0) || !std::isfinite(raw)) {
        return 1.0;
    }
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 5.0}) {
        if (m * magnitude >= raw * (1.0 - 1e-9)) {
            return m * magnitude;
        }
    }
    return 10.0 * magnitude;
}

/// Sets the axis to [0, a round number >= `max`] with ticks at round values, at most `ticks`
/// intervals: Qt's evenly divided default gives labels like 0.325 and 2.5 steps.
void setRoundRange(QValueAxis* axis, double max, int ticks, double minInterval)
{
    const double interval = std::max(minInterval, niceInterval(max / ticks));
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0.0);
    axis->setTickInterval(interval);
    axis->setRange(0.0, std::ceil(max / interval - 1e-9) * interval);
}

} // namespace

TrainingCharts::TrainingCharts(QWidget* parent)
    : QWidget(parent)
{
    QChart* loss = makeChart(tr("Loss"));
    m_series[indexOf(Series::StepLoss)] =
        makeSeries(tr("step loss"), QColor(160, 175, 195), 1.0, false);
    m_series[indexOf(Series::SmoothedLoss)] =
        makeSeries(tr("smoothed"), QColor(31, 102, 184), 2.2, false);
    m_series[indexOf(Series::EpochLoss)] =
        makeSeries(tr("epoch train loss"), QColor(230, 126, 34), 1.8, true);
    m_series[indexOf(Series::ValidationLoss)] =
        makeSeries(tr("validation loss"), QColor(39, 160, 80), 1.8, true);
    m_lossX = makeAxis(tr("step"), loss, Qt::AlignBottom);
    m_lossX->setLabelFormat(QStringLiteral("%.0f"));
    m_lossY = makeAxis(tr("loss"), loss, Qt::AlignLeft);
    for (Series s :
         {Series::StepLoss, Series::SmoothedLoss, Series::EpochLoss, Series::ValidationLoss}) {
        loss->addSeries(m_series[indexOf(s)]);
        m_series[indexOf(s)]->attachAxis(m_lossX);
        m_series[indexOf(s)]->attachAxis(m_lossY);
    }

    QChart* dice = makeChart(tr("Validation Dice (sampled)"));
    m_series[indexOf(Series::Dice)] = makeSeries(tr("Dice"), QColor(142, 68, 173), 2.0, true);
    m_diceX = makeAxis(tr("step"), dice, Qt::AlignBottom);
    m_diceX->setLabelFormat(QStringLiteral("%.0f"));
    m_diceY = makeAxis(tr("Dice"), dice, Qt::AlignLeft);
    m_diceY->setRange(0.0, 1.0);
    m_diceY->setLabelFormat(QStringLiteral("%.2f"));
    dice->addSeries(m_series[indexOf(Series::Dice)]);
    m_series[indexOf(Series::Dice)]->attachAxis(m_diceX);
    m_series[indexOf(Series::Dice)]->attachAxis(m_diceY);

    m_lossView = new QChartView(loss, this);
    m_lossView->setObjectName(QStringLiteral("lossChart"));
    m_lossView->setRenderHint(QPainter::Antialiasing);
    m_lossView->setMinimumSize(260, 180);
    m_lossView->setToolTip(tr("Training loss of every step (grey), its moving average (blue), the "
                              "mean loss of each epoch (orange) and the validation loss after "
                              "each epoch (green), against the optimizer step"));
    m_diceView = new QChartView(dice, this);
    m_diceView->setObjectName(QStringLiteral("diceChart"));
    m_diceView->setRenderHint(QPainter::Antialiasing);
    m_diceView->setMinimumSize(200, 180);
    m_diceView->setToolTip(tr("Dice of the masks sampled on a few validation images every few "
                              "epochs (training.validation.dice_every), against the step"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_lossView, 3);
    layout->addWidget(m_diceView, 2);

    m_flushTimer = new QTimer(this);
    m_flushTimer->setSingleShot(true);
    m_flushTimer->setInterval(250);
    connect(m_flushTimer, &QTimer::timeout, this, &TrainingCharts::flush);
    clear();
}

void TrainingCharts::clear()
{
    for (auto& points : m_points) {
        points.clear();
    }
    m_smoothState = 0.0;
    m_smoothWeightSum = 0.0;
    m_totalSteps = 0;
    flush();
}

void TrainingCharts::setTotalSteps(qint64 steps)
{
    m_totalSteps = std::max<qint64>(0, steps);
    scheduleFlush();
}

void TrainingCharts::addStepLoss(qint64 step, double loss)
{
    if (!std::isfinite(loss)) {
        return;
    }
    m_points[indexOf(Series::StepLoss)].emplace_back(double(step), loss);
    m_smoothState = m_smoothing * m_smoothState + (1.0 - m_smoothing) * loss;
    m_smoothWeightSum = m_smoothing * m_smoothWeightSum + (1.0 - m_smoothing);
    m_points[indexOf(Series::SmoothedLoss)].emplace_back(double(step),
                                                         m_smoothState / m_smoothWeightSum);
    scheduleFlush();
}

void TrainingCharts::addEpochLoss(qint64 step, double loss)
{
    if (std::isfinite(loss)) {
        m_points[indexOf(Series::EpochLoss)].emplace_back(double(step), loss);
        scheduleFlush();
    }
}

void TrainingCharts::addValidationLoss(qint64 step, double loss)
{
    if (std::isfinite(loss)) {
        m_points[indexOf(Series::ValidationLoss)].emplace_back(double(step), loss);
        scheduleFlush();
    }
}

void TrainingCharts::addDice(qint64 step, double dice)
{
    if (std::isfinite(dice)) {
        m_points[indexOf(Series::Dice)].emplace_back(double(step), dice);
        scheduleFlush();
    }
}

void TrainingCharts::truncateAfter(qint64 step)
{
    for (auto& points : m_points) {
        points.erase(std::remove_if(points.begin(), points.end(),
                                    [step](const QPointF& p) { return p.x() > double(step); }),
                     points.end());
    }
    recomputeSmoothed();
    scheduleFlush();
}

void TrainingCharts::setSmoothing(double weight)
{
    m_smoothing = std::clamp(weight, 0.0, 0.999);
    recomputeSmoothed();
    scheduleFlush();
}

void TrainingCharts::recomputeSmoothed()
{
    auto& smoothed = m_points[indexOf(Series::SmoothedLoss)];
    smoothed.clear();
    m_smoothState = 0.0;
    m_smoothWeightSum = 0.0;
    for (const QPointF& p : m_points[indexOf(Series::StepLoss)]) {
        m_smoothState = m_smoothing * m_smoothState + (1.0 - m_smoothing) * p.y();
        m_smoothWeightSum = m_smoothing * m_smoothWeightSum + (1.0 - m_smoothing);
        smoothed.emplace_back(p.x(), m_smoothState / m_smoothWeightSum);
    }
}

int TrainingCharts::pointCount(Series series) const
{
    return static_cast<int>(m_points[indexOf(series)].size());
}

int TrainingCharts::shownPointCount(Series series) const
{
    return static_cast<int>(m_series[indexOf(series)]->count());
}

void TrainingCharts::scheduleFlush()
{
    if (!m_flushTimer->isActive()) {
        m_flushTimer->start();
    }
}

void TrainingCharts::flush()
{
    m_flushTimer->stop();
    double lastStep = 0.0;
    for (int i = 0; i < kSeriesCount; ++i) {
        m_series[i]->replace(thinned(m_points[i]));
        if (!m_points[i].empty()) {
            lastStep = std::max(lastStep, m_points[i].back().x());
        }
    }
    // The axis follows the data with some room ahead (the progress bar tells how far the run
    // is): spanning all planned steps would squeeze the first hours of a long run into a sliver.
    double xMax = std::max(10.0, std::ceil(lastStep * 1.15));
    if (m_totalSteps > 0) {
        xMax = std::min(xMax, std::max(double(m_totalSteps), lastStep));
    }
    xMax = std::max(1.0, xMax);
    // Steps are whole numbers: ticks at least one step apart.
    setRoundRange(m_lossX, xMax, 5, 1.0);
    setRoundRange(m_diceX, xMax, 4, 1.0);
    // The smoothed, epoch and validation curves set the scale; single noisy steps above it are
    // clipped rather than squashing the curves that matter.
    double yMax = 0.0;
    for (Series s : {Series::SmoothedLoss, Series::EpochLoss, Series::ValidationLoss}) {
        for (const QPointF& p : m_points[indexOf(s)]) {
            yMax = std::max(yMax, p.y());
        }
    }
    setRoundRange(m_lossY, yMax > 0.0 ? yMax * 1.05 : 1.0, 4, 0.0);
}

} // namespace diffseg::widgets
