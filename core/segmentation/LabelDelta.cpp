#include "LabelDelta.h"

namespace diffseg::core {

namespace {

void appendRun(std::vector<LabelDelta::Run>& runs, std::uint16_t value)
{
    if (!runs.empty() && runs.back().value == value && runs.back().length < UINT32_MAX) {
        ++runs.back().length;
    } else {
        runs.push_back({value, 1});
    }
}

} // namespace

LabelDelta::LabelDelta(const LabelCanvas& canvas, const IndexBox& box,
                       const std::vector<std::uint16_t>& before)
    : m_box(box)
{
    if (static_cast<std::int64_t>(before.size()) != box.volume()) {
        throw Error(ErrorKind::Internal, "", "undo snapshot does not match the edited region");
    }
    for (std::uint16_t v : before) {
        appendRun(m_before, v);
    }
    m_after = encode(canvas, box);
}

std::vector<LabelDelta::Run> LabelDelta::encode(const LabelCanvas& canvas, const IndexBox& box)
{
    std::vector<Run> runs;
    for (std::int64_t k = box.lo[2]; k < box.hi[2]; ++k) {
        for (std::int64_t j = box.lo[1]; j < box.hi[1]; ++j) {
            for (std::int64_t i = box.lo[0]; i < box.hi[0]; ++i) {
                appendRun(runs, static_cast<std::uint16_t>(canvas.get(i, j, k)));
            }
        }
    }
    return runs;
}

std::size_t LabelDelta::bytes() const noexcept
{
    return sizeof(*this) + (m_before.capacity() + m_after.capacity()) * sizeof(Run);
}

void LabelDelta::apply(LabelCanvas& canvas, bool after) const
{
    const std::vector<Run>& runs = after ? m_after : m_before;
    auto run = runs.begin();
    std::uint32_t left = run != runs.end() ? run->length : 0;
    for (std::int64_t k = m_box.lo[2]; k < m_box.hi[2]; ++k) {
        for (std::int64_t j = m_box.lo[1]; j < m_box.hi[1]; ++j) {
            for (std::int64_t i = m_box.lo[0]; i < m_box.hi[0]; ++i) {
                while (left == 0) {
                    ++run;
                    left = run->length;
                }
                canvas.set(i, j, k, run->value);
                --left;
            }
        }
    }
}

} // namespace diffseg::core
