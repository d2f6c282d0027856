#include "UndoStack.h"

namespace diffseg::core {

UndoStack::UndoStack(std::size_t maxBytes, std::size_t minSteps)
    : m_maxBytes(maxBytes)
    , m_minSteps(minSteps == 0 ? 1 : minSteps)
{}

void UndoStack::push(std::string title, LabelDelta delta)
{
    if (delta.empty()) {
        return;
    }
    while (m_steps.size() > m_next) {
        m_bytes -= m_steps.back().delta.bytes();
        m_steps.pop_back();
    }
    m_bytes += delta.bytes();
    m_steps.push_back({std::move(title), std::move(delta)});
    m_next = m_steps.size();
    enforceBudget();
    notify();
}

std::string UndoStack::undoTitle() const
{
    return canUndo() ? m_steps[m_next - 1].title : std::string();
}

std::string UndoStack::redoTitle() const
{
    return canRedo() ? m_steps[m_next].title : std::string();
}

IndexBox UndoStack::undo(LabelCanvas& canvas)
{
    if (!canUndo()) {
        return {};
    }
    --m_next;
    m_steps[m_next].delta.apply(canvas, false);
    notify();
    return m_steps[m_next].delta.box();
}

IndexBox UndoStack::redo(LabelCanvas& canvas)
{
    if (!canRedo()) {
        return {};
    }
    m_steps[m_next].delta.apply(canvas, true);
    ++m_next;
    notify();
    return m_steps[m_next - 1].delta.box();
}

void UndoStack::clear()
{
    m_steps.clear();
    m_next = 0;
    m_bytes = 0;
    notify();
}

void UndoStack::enforceBudget()
{
    std::size_t drop = 0;
    std::size_t bytes = m_bytes;
    while (bytes > m_maxBytes && m_steps.size() - drop > m_minSteps && drop < m_next) {
        bytes -= m_steps[drop].delta.bytes();
        ++drop;
    }
    if (drop > 0) {
        m_steps.erase(m_steps.begin(), m_steps.begin() + static_cast<std::ptrdiff_t>(drop));
        m_next -= drop;
        m_bytes = bytes;
    }
}

void UndoStack::notify()
{
    if (onChanged) {
        onChanged();
    }
}

} // namespace diffseg::core
