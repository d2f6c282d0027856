#pragma once

#include "inference/ModelCard.h"
#include "inference/Segmenter.h"

#include <QString>
#include <QWidget>

class QComboBox;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;

namespace diffseg::widgets {

class ModelOptionRows;

/// The model panel of the photo and volume workspaces (ModelPanel, VolumePanel): the checkpoint
/// chooser, the run's options as the model can take them (ModelOptionRows, driven by its
/// core::ModelCapabilities), Segment and Cancel, the progress bar with the time left, the status
/// line, and what is enabled while a run goes. A subclass makes these with createCheckpointBox(),
/// createOptionRows() and createRunControls() where its focus order wants them, adds what its
/// workspace shows beside them, and lays the panel out. It collects choices and shows progress
/// only: the app runs the model. GUI thread only.
class SegmentationPanel : public QWidget
{
    Q_OBJECT

public:
    /// Adds a checkpoint to the chooser; a path listed already keeps its place and takes the new
    /// label. `toolTip` (default: the path) is what users read when pointing at it (the card).
    void addCheckpoint(const QString& path, const QString& label, const QString& toolTip = {});
    /// Removes every checkpoint (before listing them again) without announcing a change.
    void clearCheckpoints();
    /// Chooses `path` when it is listed.
    void setCurrentCheckpoint(const QString& path);
    QString currentCheckpoint() const;
    bool isRunning() const { return m_running; }

    /// Shows the options `can` offers (the family's before a model is loaded, the model's after).
    void setCapabilities(const core::ModelCapabilities& can);
    const core::ModelCapabilities& capabilities() const;
    /// The chosen options in the seam's form, and setting them (ModelOptionRows).
    core::SegmentationRequest options() const;
    void setOptions(const core::SegmentationRequest& request);
    /// The options the model card says the model was validated with; true when it set any.
    bool applyCard(const core::ModelCard& card);

public Q_SLOTS:
    void setRunning(bool running);
    /// `done` of `total` network evaluations (a photo's sampling steps, or a volume's windows x
    /// mirror passes x steps); `etaSeconds` < 0 when unknown.
    void setProgress(int done, int total, double etaSeconds);
    void setStatus(const QString& text);

Q_SIGNALS:
    void cancelRequested();
    void browseCheckpointRequested();
    void checkpointChanged(const QString& path);

protected:
    /// The names and texts of Segment, Cancel, the progress bar and the status line.
    struct RunControlLook
    {
        QString segmentText;
        QString segmentName;
        QString segmentToolTip;
        QString cancelName;
        QString cancelToolTip;
        QString progressName;
        QString statusName;
    };

    explicit SegmentationPanel(QWidget* parent);

    /// Makes the checkpoint chooser; its choice is announced by checkpointChanged().
    void createCheckpointBox(const QString& objectName, const QString& toolTip,
                             int minimumContentsLength);
    /// Makes the option rows in `form`.
    void createOptionRows(QFormLayout* form);
    /// Makes Segment, Cancel (announced by cancelRequested()), the progress bar and the status
    /// line, in that order. The subclass connects Segment to its own request.
    void createRunControls(const RunControlLook& look);
    /// A new row of Segment (stretched) and Cancel for the subclass's layout.
    QHBoxLayout* createRunButtonsRow() const;

    /// Enables Segment when a model is listed and nothing runs, Cancel while a run goes, and the
    /// options while nothing runs; a subclass enables its own widgets after calling this.
    virtual void updateEnabled();

    QComboBox* checkpointBox() const { return m_checkpoint; }
    QPushButton* segmentButton() const { return m_segment; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* statusLabel() const { return m_status; }

private:
    QComboBox* m_checkpoint = nullptr;
    ModelOptionRows* m_options = nullptr;
    QPushButton* m_segment = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    bool m_running = false;
};

} // namespace diffseg::widgets
