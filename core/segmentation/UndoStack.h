#pragma once

#include "LabelDelta.h"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace diffseg::core {

/// Undo/redo history of label edits. One user gesture (a brush stroke, a polygon, a fill,
/// "accept AI result") is one step with a title the Edit menu shows ("Undo Brush stroke").
///
/// Memory: steps hold region-limited RLE deltas; when their total exceeds `maxBytes`, the oldest
/// steps are dropped, but the newest `minSteps` are always kept. A new step drops the redo branch.
/// Not thread-safe (GUI thread). `onChanged` is called after every change of the history.
class UndoStack
{
public:
    struct Step
    {
        std::string title;
        LabelDelta delta;
    };

    explicit UndoStack(std::size_t maxBytes = std::size_t(256) << 20, std::size_t minSteps = 20);

    /// Adds a step; empty deltas are ignored (a click that changed nothing is not an undo step).
    void push(std::string title, LabelDelta delta);
    bool canUndo() const noexcept { return m_next > 0; }
    bool canRedo() const noexcept { return m_next < m_steps.size(); }
    /// Title of the step undo()/redo() would revert/replay ("" when none).
    std::string undoTitle() const;
    std::string redoTitle() const;
    /// Reverts the last step on `canvas`; returns the changed region (empty when nothing to undo).
    IndexBox undo(LabelCanvas& canvas);
    IndexBox redo(LabelCanvas& canvas);
    void clear();

    std::size_t size() const noexcept { return m_steps.size(); }
    std::size_t undoCount() const noexcept { return m_next; }
    std::size_t bytes() const noexcept { return m_bytes; }
    std::size_t maxBytes() const noexcept { return m_maxBytes; }

    std::function<void()> onChanged;

private:
    void enforceBudget();
    void notify();

    std::vector<Step> m_steps;
    std::size_t m_next = 0; ///< steps [0, m_next) are done; [m_next, size) can be redone
    std::size_t m_bytes = 0;
    std::size_t m_maxBytes;
    std::size_t m_minSteps;
};

} // namespace diffseg::core
