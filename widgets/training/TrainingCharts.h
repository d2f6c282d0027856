#pragma once

#include <QPointF>
#include <QWidget>

#include <array>
#include <vector>

class QChart;
class QChartView;
class QLineSeries;
class QTimer;
class QValueAxis;

namespace diffseg::widgets {

/// Live training curves (QtCharts): the loss of every optimizer step (faint) with its smoothed
/// curve, the mean training loss per epoch and the validation loss, against the step; beside it
/// the sampled validation Dice. Points arrive one by one from the training protocol's events and
/// are drawn in batches, at most four times a second, with long curves thinned to a few thousand
/// drawn points: a run of 100 000 steps costs the GUI thread a few milliseconds per redraw, not
/// one repaint per step. All points are kept, so thinning never loses data.
///
/// Ownership: owns its chart views (Qt children). Threads: GUI thread only. Errors: none; NaN
/// and infinite values are skipped (a diverged step must not wreck the axes).
class TrainingCharts : public QWidget
{
    Q_OBJECT

public:
    enum class Series
    {
        StepLoss,       ///< the loss of each step, as reported
        SmoothedLoss,   ///< its exponential moving average (debiased, as TensorBoard smooths)
        EpochLoss,      ///< mean training loss of each epoch
        ValidationLoss, ///< the validation criterion after each epoch
        Dice            ///< sampled validation Dice
    };

    explicit TrainingCharts(QWidget* parent = nullptr);

    /// Forgets every point (a new run).
    void clear();
    /// The run's planned steps: the step axis follows the points received (with room ahead) but
    /// never runs past them.
    void setTotalSteps(qint64 steps);
    void addStepLoss(qint64 step, double loss);
    void addEpochLoss(qint64 step, double loss);
    void addValidationLoss(qint64 step, double loss);
    void addDice(qint64 step, double dice);
    /// Drops the points after `step`: a resumed run repeats the steps after its checkpoint.
    void truncateAfter(qint64 step);
    /// Weight of the moving average in [0, 0.999] (0.9 by default); the curve is recomputed.
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }

    /// Points received (all of them, not the thinned ones drawn).
    int pointCount(Series series) const;
    /// Points in the chart's series after the last redraw.
    int shownPointCount(Series series) const;
    /// Redraws now instead of at the next tick of the redraw timer.
    void flush();

    QChartView* lossView() const { return m_lossView; }
    QChartView* diceView() const { return m_diceView; }

private:
    void scheduleFlush();
    void recomputeSmoothed();

    static constexpr int kSeriesCount = 5;
    std::array<std::vector<QPointF>, kSeriesCount> m_points;
    std::array<QLineSeries*, kSeriesCount> m_series{};
    QChartView* m_lossView = nullptr;
    QChartView* m_diceView = nullptr;
    QValueAxis* m_lossX = nullptr;
    QValueAxis* m_lossY = nullptr;
    QValueAxis* m_diceX = nullptr;
    QValueAxis* m_diceY = nullptr;
    QTimer* m_flushTimer = nullptr;
    qint64 m_totalSteps = 0;
    double m_smoothing = 0.9;
    double m_smoothState = 0.0; ///< the biased running average of the step losses
    double m_smoothWeightSum = 0.0;
};

} // namespace diffseg::widgets
