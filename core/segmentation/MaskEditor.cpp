#include "MaskEditor.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace diffseg::core {

MaskEditor::MaskEditor(LabelCanvas canvas, UndoStack& undo)
    : m_canvas(canvas)
    , m_undo(undo)
{}

void MaskEditor::setCanvas(LabelCanvas canvas)
{
    m_canvas = canvas;
    m_strokeActive = false;
    m_undo.clear();
}

void MaskEditor::snapshot(const IndexBox& box, std::vector<std::uint16_t>& out) const
{
    out.clear();
    out.reserve(static_cast<std::size_t>(box.volume()));
    for (std::int64_t k = box.lo[2]; k < box.hi[2]; ++k) {
        for (std::int64_t j = box.lo[1]; j < box.hi[1]; ++j) {
            for (std::int64_t i = box.lo[0]; i < box.hi[0]; ++i) {
                out.push_back(static_cast<std::uint16_t>(m_canvas.get(i, j, k)));
            }
        }
    }
}

IndexBox MaskEditor::commitChange(const std::string& title, const IndexBox& searchBox,
                                  const std::vector<std::uint16_t>& before)
{
    // Find the changed voxels' bounding box, then keep only that region in the undo step.
    IndexBox changed;
    std::size_t n = 0;
    for (std::int64_t k = searchBox.lo[2]; k < searchBox.hi[2]; ++k) {
        for (std::int64_t j = searchBox.lo[1]; j < searchBox.hi[1]; ++j) {
            for (std::int64_t i = searchBox.lo[0]; i < searchBox.hi[0]; ++i, ++n) {
                if (before[n] != m_canvas.get(i, j, k)) {
                    changed.include(i, j, k);
                }
            }
        }
    }
    if (changed.empty()) {
        return changed;
    }
    std::vector<std::uint16_t> region;
    region.reserve(static_cast<std::size_t>(changed.volume()));
    const std::int64_t sx = searchBox.extent(0);
    const std::int64_t sy = searchBox.extent(1);
    for (std::int64_t k = changed.lo[2]; k < changed.hi[2]; ++k) {
        for (std::int64_t j = changed.lo[1]; j < changed.hi[1]; ++j) {
            for (std::int64_t i = changed.lo[0]; i < changed.hi[0]; ++i) {
                const std::int64_t li = i - searchBox.lo[0];
                const std::int64_t lj = j - searchBox.lo[1];
                const std::int64_t lk = k - searchBox.lo[2];
                region.push_back(before[static_cast<std::size_t>((lk * sy + lj) * sx + li)]);
            }
        }
    }
    m_undo.push(title, LabelDelta(m_canvas, changed, region));
    return changed;
}

//------------------------------------------------------------------------------------------------
void MaskEditor::beginStroke(const std::string& title, const EditPlane& plane)
{
    if (m_strokeActive) {
        endStroke();
    }
    m_strokePlaneBox = m_canvas.planeBox(plane);
    m_strokePlane = plane;
    m_strokeTitle = title;
    // One slice is at most a few MB even for large images; 3D strokes never copy the volume.
    snapshot(m_strokePlaneBox, m_strokeBefore);
    m_strokeActive = true;
    m_hasLastPoint = false;
}

IndexBox MaskEditor::stamp(double u, double v, double radiusMm, int value)
{
    if (!m_strokeActive) {
        throw Error(ErrorKind::Internal, "", "stamp() outside a stroke");
    }
    m_canvas.checkValue(value);
    const auto spacing = m_canvas.planeSpacing(m_strokePlane);
    const auto size = m_canvas.planeSize(m_strokePlane);
    // At least half a pixel, so the smallest brush still paints the pixel under the cursor.
    const double ru = std::max(radiusMm / spacing[0], 0.5);
    const double rv = std::max(radiusMm / spacing[1], 0.5);
    const auto u0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(u - ru)));
    const auto u1 =
        std::min<std::int64_t>(size[0] - 1, static_cast<std::int64_t>(std::ceil(u + ru)));
    const auto v0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(v - rv)));
    const auto v1 =
        std::min<std::int64_t>(size[1] - 1, static_cast<std::int64_t>(std::ceil(v + rv)));
    IndexBox dirty;
    for (std::int64_t pv = v0; pv <= v1; ++pv) {
        const double dv = (pv + 0.5 - v) / rv;
        for (std::int64_t pu = u0; pu <= u1; ++pu) {
            const double du = (pu + 0.5 - u) / ru;
            if (du * du + dv * dv <= 1.0) {
                const auto idx = m_canvas.toIndex(m_strokePlane, pu, pv);
                if (m_canvas.get(idx[0], idx[1], idx[2]) != value) {
                    m_canvas.set(idx[0], idx[1], idx[2], value);
                    dirty.include(idx[0], idx[1], idx[2]);
                }
            }
        }
    }
    m_lastPoint = {u, v};
    m_hasLastPoint = true;
    return dirty;
}

IndexBox MaskEditor::strokeTo(double u, double v, double radiusMm, int value)
{
    if (!m_hasLastPoint) {
        return stamp(u, v, radiusMm, value);
    }
    const auto spacing = m_canvas.planeSpacing(m_strokePlane);
    const double step =
        std::max(0.25, 0.3 * std::min(radiusMm / spacing[0], radiusMm / spacing[1]));
    const double du = u - m_lastPoint[0];
    const double dv = v - m_lastPoint[1];
    const int n = std::max(1, static_cast<int>(std::ceil(std::hypot(du, dv) / step)));
    const std::array<double, 2> from = m_lastPoint;
    IndexBox dirty;
    for (int s = 1; s <= n; ++s) {
        const double t = static_cast<double>(s) / n;
        dirty.include(stamp(from[0] + t * du, from[1] + t * dv, radiusMm, value));
    }
    return dirty;
}

IndexBox MaskEditor::endStroke()
{
    if (!m_strokeActive) {
        return {};
    }
    m_strokeActive = false;
    IndexBox changed = commitChange(m_strokeTitle, m_strokePlaneBox, m_strokeBefore);
    m_strokeBefore.clear();
    m_strokeBefore.shrink_to_fit();
    return changed;
}

IndexBox MaskEditor::cancelStroke()
{
    if (!m_strokeActive) {
        return {};
    }
    m_strokeActive = false;
    IndexBox restored;
    std::size_t n = 0;
    const IndexBox& b = m_strokePlaneBox;
    for (std::int64_t k = b.lo[2]; k < b.hi[2]; ++k) {
        for (std::int64_t j = b.lo[1]; j < b.hi[1]; ++j) {
            for (std::int64_t i = b.lo[0]; i < b.hi[0]; ++i, ++n) {
                if (m_canvas.get(i, j, k) != m_strokeBefore[n]) {
                    m_canvas.set(i, j, k, m_strokeBefore[n]);
                    restored.include(i, j, k);
                }
            }
        }
    }
    m_strokeBefore.clear();
    return restored;
}

//------------------------------------------------------------------------------------------------
IndexBox MaskEditor::fillPolygon(const EditPlane& plane,
                                 const std::vector<std::array<double, 2>>& points, int value,
                                 const std::string& title)
{
    m_canvas.checkValue(value);
    if (points.size() < 3) {
        return {};
    }
    m_canvas.planeBox(plane); // validates the plane
    const auto size = m_canvas.planeSize(plane);
    double vmin = points[0][1];
    double vmax = points[0][1];
    for (const auto& p : points) {
        vmin = std::min(vmin, p[1]);
        vmax = std::max(vmax, p[1]);
    }
    // Only the polygon's rows need a snapshot.
    const auto r0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(vmin)));
    const auto r1 = std::min<std::int64_t>(size[1] - 1, static_cast<std::int64_t>(std::ceil(vmax)));
    if (r0 > r1) {
        return {};
    }
    IndexBox rows;
    const auto a = m_canvas.toIndex(plane, 0, r0);
    const auto b = m_canvas.toIndex(plane, size[0] - 1, r1);
    rows.include(a[0], a[1], a[2]);
    rows.include(b[0], b[1], b[2]);
    rows = rows.clipped(m_canvas.size());
    std::vector<std::uint16_t> before;
    snapshot(rows, before);

    std::vector<double> crossings;
    for (std::int64_t pv = r0; pv <= r1; ++pv) {
        const double y = pv + 0.5;
        crossings.clear();
        for (std::size_t e = 0; e < points.size(); ++e) {
            const auto& p = points[e];
            const auto& q = points[(e + 1) % points.size()];
            // Half-open rule so that a vertex on the scanline is counted once.
            if ((p[1] <= y && q[1] > y) || (q[1] <= y && p[1] > y)) {
                crossings.push_back(p[0] + (y - p[1]) / (q[1] - p[1]) * (q[0] - p[0]));
            }
        }
        std::sort(crossings.begin(), crossings.end());
        for (std::size_t c = 0; c + 1 < crossings.size(); c += 2) {
            // Pixels whose centres lie between the two crossings.
            const auto first =
                std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(crossings[c] - 0.5)));
            const auto last = std::min<std::int64_t>(
                size[0] - 1, static_cast<std::int64_t>(std::floor(crossings[c + 1] - 0.5)));
            for (std::int64_t pu = first; pu <= last; ++pu) {
                const auto idx = m_canvas.toIndex(plane, pu, pv);
                m_canvas.set(idx[0], idx[1], idx[2], value);
            }
        }
    }
    return commitChange(title, rows, before);
}

IndexBox MaskEditor::floodFill(const EditPlane& plane, double u, double v, int value,
                               const std::string& title)
{
    m_canvas.checkValue(value);
    const IndexBox planeBox = m_canvas.planeBox(plane);
    const auto size = m_canvas.planeSize(plane);
    const auto su = static_cast<std::int64_t>(std::floor(u));
    const auto sv = static_cast<std::int64_t>(std::floor(v));
    if (su < 0 || sv < 0 || su >= size[0] || sv >= size[1]) {
        return {};
    }
    const auto seed = m_canvas.toIndex(plane, su, sv);
    const int target = m_canvas.get(seed[0], seed[1], seed[2]);
    if (target == value) {
        return {};
    }
    std::vector<std::uint16_t> before;
    snapshot(planeBox, before);
    std::deque<std::array<std::int64_t, 2>> queue{{su, sv}};
    auto setAt = [&](std::int64_t pu, std::int64_t pv) {
        const auto idx = m_canvas.toIndex(plane, pu, pv);
        m_canvas.set(idx[0], idx[1], idx[2], value);
    };
    auto matches = [&](std::int64_t pu, std::int64_t pv) {
        if (pu < 0 || pv < 0 || pu >= size[0] || pv >= size[1]) {
            return false;
        }
        const auto idx = m_canvas.toIndex(plane, pu, pv);
        return m_canvas.get(idx[0], idx[1], idx[2]) == target;
    };
    setAt(su, sv);
    while (!queue.empty()) {
        const auto [pu, pv] = queue.front();
        queue.pop_front();
        const std::int64_t nb[4][2] = {{pu + 1, pv}, {pu - 1, pv}, {pu, pv + 1}, {pu, pv - 1}};
        for (const auto& n : nb) {
            if (matches(n[0], n[1])) {
                setAt(n[0], n[1]);
                queue.push_back({n[0], n[1]});
            }
        }
    }
    return commitChange(title, planeBox, before);
}

IndexBox MaskEditor::replaceAll(const std::vector<std::uint16_t>& labels, const std::string& title)
{
    const IndexBox whole = IndexBox::whole(m_canvas.size());
    if (static_cast<std::int64_t>(labels.size()) != whole.volume()) {
        throw Error(ErrorKind::Mismatch, "",
                    "the new labels have " + std::to_string(labels.size()) +
                        " values but the label grid has " + std::to_string(whole.volume()));
    }
    for (std::uint16_t l : labels) {
        m_canvas.checkValue(l);
    }
    std::vector<std::uint16_t> before;
    snapshot(whole, before);
    std::size_t n = 0;
    for (std::int64_t k = 0; k < whole.hi[2]; ++k) {
        for (std::int64_t j = 0; j < whole.hi[1]; ++j) {
            for (std::int64_t i = 0; i < whole.hi[0]; ++i, ++n) {
                m_canvas.set(i, j, k, labels[n]);
            }
        }
    }
    return commitChange(title, whole, before);
}

IndexBox MaskEditor::undo()
{
    if (m_strokeActive) {
        endStroke();
    }
    return m_undo.undo(m_canvas);
}

IndexBox MaskEditor::redo()
{
    return m_undo.redo(m_canvas);
}

} // namespace diffseg::core
