#pragma once

#include "IndexBox.h"
#include "LabelCanvas.h"

#include <cstdint>
#include <vector>

namespace diffseg::core {

/// The change an edit made to a box of a label grid: the labels before and after, run-length
/// encoded in the box's x-fastest order. Strokes touch compact regions of mostly one label, so a
/// brush stroke on a 4000x3000 mask costs bytes to kilobytes, not 12 MB (ITK-SNAP's approach).
class LabelDelta
{
public:
    struct Run
    {
        std::uint16_t value;
        std::uint32_t length;
    };

    LabelDelta() = default;
    /// `before` holds the box's labels before the edit (box.volume() values, x fastest); the
    /// labels after are read from `canvas`.
    LabelDelta(const LabelCanvas& canvas, const IndexBox& box,
               const std::vector<std::uint16_t>& before);

    const IndexBox& box() const noexcept { return m_box; }
    bool empty() const noexcept { return m_box.empty(); }
    /// Memory held, in bytes.
    std::size_t bytes() const noexcept;
    /// Writes the labels before (undo) or after (redo) the edit into `canvas`.
    void apply(LabelCanvas& canvas, bool after) const;

    /// Run-length encodes the labels of `box` in `canvas`.
    static std::vector<Run> encode(const LabelCanvas& canvas, const IndexBox& box);

private:
    IndexBox m_box;
    std::vector<Run> m_before;
    std::vector<Run> m_after;
};

} // namespace diffseg::core
