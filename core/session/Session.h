#pragma once

// The session layer: the open document and what is done to it, for a photo and for a volume
// behind one interface, with no Qt and no VTK (as ITK-SNAP's logic and Slicer's MRML logic keep
// theirs). The studio's views bind to a session; tests drive whole workflows without a window.

#include "inference/Segmenter.h"
#include "metrics/SegmentationMetrics.h"
#include "segmentation/IndexBox.h"
#include "segmentation/MaskEditor.h"
#include "segmentation/UncertainRegions.h"
#include "segmentation/UndoStack.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace diffseg::core {

/// What changed, for the views bound to a session.
enum class SessionEvent
{
    Opened,      ///< a new document (everything else was reset)
    GroundTruth, ///< a ground truth was loaded
    Labels,      ///< the labels changed inside `region` (empty region: anywhere)
    History,     ///< the undo history changed (titles, can undo/redo)
    Result,      ///< a segmentation result arrived (or was cleared)
    Regions,     ///< the uncertain regions were recomputed
    Saved        ///< the labels were saved; the document is clean
};

struct SessionChange
{
    SessionEvent event;
    IndexBox region; ///< for Labels: voxel index box that changed; empty: the whole grid
};

/// One stop of "next uncertain region": the region, its place in the list, and whether the walk
/// has now seen them all.
struct RegionVisit
{
    UncertainRegion region;
    int index = 0;
    int count = 0;
    bool last = false;
};

/// What autosave() wrote, as restoreAutosave() reads it.
struct AutosaveContents
{
    InputKind kind = InputKind::Photo;
    std::string document;    ///< the photo or volume that was open
    std::string groundTruth; ///< its ground truth, or empty
    std::string labelsFile;  ///< the autosaved labels (absolute)
    std::string saved;       ///< UTC time, ISO 8601
    int edits = 0;           ///< undo steps at the time
};

/// An open photo or volume with its labels, ground truth, undo history, segmentation result and
/// uncertain regions, and the operations of the correction workflow: open, segment, accept a
/// result or a step, edit with undo, walk the uncertain regions, compare with the ground truth,
/// save, autosave and restore.
///
/// Ownership: owns the document and its labels; the editor edits the labels in place, so views
/// keep references only until the next Opened event. Threads: one thread (the GUI's); a run may
/// use input() and a Segmenter on a worker and hand the outcome back through setResult() on this
/// thread. Coordinates: voxel indices (pixel centres at +0.5); volumes keep their LPS geometry.
/// Errors: Error naming the file or the option; a failed open or load leaves the session as it
/// was.
class Session
{
public:
    using Observer = std::function<void(const SessionChange&)>;

    virtual ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    virtual InputKind kind() const noexcept = 0;

    // --- the document
    /// Opens `path` (a photo or a volume, as kind() says) and loads a ground truth found beside
    /// it (images/ + masks/, `<stem>_segmentation.png`, `<stem>_seg.nii.gz`, ...).
    virtual void open(const std::string& path) = 0;
    bool isOpen() const noexcept { return m_open; }
    const std::string& path() const noexcept { return m_path; }
    /// Loads a reference segmentation of the open document's grid; Error(Mismatch) otherwise.
    virtual void loadGroundTruth(const std::string& path) = 0;
    bool hasGroundTruth() const noexcept { return !m_groundTruthPath.empty(); }
    const std::string& groundTruthPath() const noexcept { return m_groundTruthPath; }
    /// Loads a label file as the labels to edit (one undo step).
    void loadLabels(const std::string& path);

    // --- labels and their history
    MaskEditor& editor() { return m_editor; }
    const UndoStack& history() const noexcept { return m_undo; }
    IndexBox undo();
    IndexBox redo();
    /// Sets every label to 0 (one undo step, "Clear").
    void clearLabels();
    /// Labelled (non-zero) voxels.
    virtual std::size_t labelledCount() const = 0;
    /// Tells the observers that a gesture in progress (a brush stroke) changed `region`.
    void notifyLabelsChanged(const IndexBox& region);
    bool isDirty() const noexcept { return m_dirty; }

    // --- segmentation
    /// The document as a model input (shares its pixels; safe to hand to another thread).
    virtual SegmentationInput input() const = 0;
    /// Runs `model` on the document here and now (see setResult()).
    void segment(Segmenter& model, const SegmentationRequest& request = {},
                 const SegmentationStepCallback& callback = {}, const CancelToken& cancel = {});
    /// Refines the labels as they are with `prompts` (Segmenter::refineInput from a copy of the
    /// labels) and takes the outcome as the pending result, as segment() does: the correction
    /// workflow's clicks, for a photo and a volume alike.
    void refine(Segmenter& model, const SegmentationPrompts& prompts,
                const SegmentationRequest& request = {},
                const SegmentationStepCallback& callback = {}, const CancelToken& cancel = {});
    /// A copy of the labels as a model's start (safe to hand to another thread).
    virtual SegmentationLabels currentLabels() const = 0;
    /// Takes a run's outcome as the pending result; Error(Mismatch) for another kind or grid.
    void setResult(SegmentationOutcome outcome, const std::string& uncertainty = {});
    bool hasResult() const noexcept { return !m_result.empty(); }
    const SegmentationOutcome& result() const noexcept { return m_result; }
    /// The result was not accepted into the labels yet.
    bool resultPending() const noexcept { return m_resultPending; }
    /// Makes the result the labels (one undo step, "Accept AI result"); false without a result.
    bool acceptResult();
    /// Makes step `step`'s prediction the labels (member `member`, or the mean for -1); false
    /// when the run kept no such step.
    bool acceptStep(int step, int member = -1);
    /// Where the labels came from, for reports ("the AI result", "step 7 (member 2)", ...).
    const std::string& acceptNote() const noexcept { return m_acceptNote; }

    // --- uncertainty
    /// The result's uncertainty maps by name (empty without a result).
    virtual std::vector<std::string> uncertaintyMaps() const = 0;
    const std::string& uncertainty() const noexcept { return m_uncertainty; }
    /// Chooses the map that regions come from; Error(Config) for a name the result lacks.
    void chooseUncertainty(const std::string& name);
    const std::vector<UncertainRegion>& regions() const noexcept { return m_regions; }
    /// The next region, largest first, starting again after the last; nullopt without any.
    std::optional<RegionVisit> nextUncertainRegion();
    /// Regions are where the chosen map, scaled to [0, 1], exceeds this.
    static constexpr float kRegionThreshold = 0.5f;

    // --- metrics against the ground truth (one Dice: metrics/ForegroundOverlap)
    virtual std::optional<OverlapMetrics> metrics() const = 0;

    // --- saving
    /// Writes the labels atomically (PNG for photos; NIfTI, NRRD or MetaImage for volumes, by
    /// the extension) and marks the document clean.
    void save(const std::string& path);
    const std::string& savePath() const noexcept { return m_savePath; }
    virtual std::string suggestedSavePath() const = 0;

    // --- autosave
    /// Writes the labels and a session.json naming the document into `folder` (created), each
    /// atomically, the labels first. Error(Io) naming the file.
    void autosave(const std::string& folder) const;
    /// Reads what autosave() wrote; Error(NotFound/Format) naming the file.
    static AutosaveContents readAutosave(const std::string& folder);
    /// Opens the autosaved document and its ground truth and puts the autosaved labels back as
    /// one undo step ("Restore autosaved edits"); the document counts as edited.
    void restoreAutosave(const AutosaveContents& contents);

    // --- observers (called on the session's thread, in the order they were added)
    int addObserver(Observer observer);
    void removeObserver(int id);

protected:
    Session();

    /// Installs fresh label memory after an open: the editor is pointed at it, the history,
    /// result, regions and paths are reset, and Opened is sent.
    void resetDocument(const std::string& path, LabelCanvas canvas);
    void setGroundTruthPath(const std::string& path);
    void notify(SessionEvent event, const IndexBox& region = {});
    /// Forgets the undo history without counting it as an edit (labels loaded as they are).
    void resetHistory();
    /// Points the editor at new label memory and forgets the history, not counted as an edit.
    void replaceCanvas(LabelCanvas canvas);
    /// Replaces every label as one undo step named `title` (canvas layout, x fastest).
    void replaceLabels(const std::vector<std::uint16_t>& labels, const std::string& title);

    // What each kind does its own way.
    virtual void checkResult(const SegmentationOutcome& outcome) const = 0;
    /// The result's labels / a step's labels, in the canvas layout (x fastest).
    virtual std::vector<std::uint16_t> resultLabels() const = 0;
    virtual std::optional<std::vector<std::uint16_t>> stepLabels(int step, int member) const = 0;
    virtual std::vector<UncertainRegion> findRegions(const std::string& map) const = 0;
    virtual void writeLabels(const std::string& path) const = 0;
    /// A label file's labels in the canvas layout; Error(Mismatch) for another grid.
    virtual std::vector<std::uint16_t> readLabels(const std::string& path) const = 0;
    /// The autosave's label file name ("mask.png", "labels.nii.gz").
    virtual std::string autosaveLabelsName() const = 0;

private:
    void recomputeRegions();

    UndoStack m_undo;
    MaskEditor m_editor;
    bool m_open = false;
    std::string m_path;
    std::string m_groundTruthPath;
    std::string m_savePath;
    bool m_dirty = false;
    bool m_resetting = false;
    SegmentationOutcome m_result;
    bool m_resultPending = false;
    std::string m_acceptNote;
    std::string m_uncertainty;
    std::vector<UncertainRegion> m_regions;
    int m_regionCursor = 0;
    std::map<int, Observer> m_observers;
    int m_nextObserver = 1;
};

} // namespace diffseg::core
