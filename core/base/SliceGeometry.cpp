#include "SliceGeometry.h"

#include <cmath>

namespace diffseg::core {

namespace {

/// For each LPS axis (0 = L, 1 = P, 2 = S): the voxel axis pointing closest to it, and whether
/// that voxel axis points along (+) or against (-) it.
void nearestAxes(const Geometry& g, std::array<int, 3>& voxelAxisFor, std::array<int, 3>& signFor)
{
    std::array<bool, 3> used{false, false, false};
    std::array<bool, 3> done{false, false, false};
    // Greedy by the strongest cosine first, so that oblique grids still get a permutation.
    for (int round = 0; round < 3; ++round) {
        double best = -1.0;
        int bestAnat = 0;
        int bestVoxel = 0;
        for (int anat = 0; anat < 3; ++anat) {
            if (done[anat]) {
                continue;
            }
            for (int v = 0; v < 3; ++v) {
                if (used[v]) {
                    continue;
                }
                const double c = std::abs(g.direction[anat * 3 + v]);
                if (c > best) {
                    best = c;
                    bestAnat = anat;
                    bestVoxel = v;
                }
            }
        }
        done[bestAnat] = true;
        used[bestVoxel] = true;
        voxelAxisFor[bestAnat] = bestVoxel;
        signFor[bestAnat] = g.direction[bestAnat * 3 + bestVoxel] >= 0.0 ? 1 : -1;
    }
}

} // namespace

SliceGeometry::SliceGeometry(const Geometry& geometry, const std::array<std::int64_t, 3>& size,
                             SliceOrientation orientation)
    : m_orientation(orientation)
    , m_size(size)
    , m_spacing(geometry.spacing)
{
    std::array<int, 3> voxelAxisFor{0, 1, 2};
    std::array<int, 3> signFor{1, 1, 1};
    nearestAxes(geometry, voxelAxisFor, signFor);
    // Screen x and y as anatomical axes with the direction they must increase in (LPS signs).
    // Radiological: screen x runs from patient right to left (+L); y runs A->P (+P) in axial views
    // and S->I (-S) in coronal and sagittal views; sagittal x runs A->P (+P).
    int anatX = 0;
    int anatY = 1;
    int anatN = 2;
    int wantX = 1;
    int wantY = 1;
    switch (orientation) {
    case SliceOrientation::Axial:
        anatX = 0, anatY = 1, anatN = 2, wantX = 1, wantY = 1;
        m_labels = {'R', 'L', 'A', 'P'};
        break;
    case SliceOrientation::Coronal:
        anatX = 0, anatY = 2, anatN = 1, wantX = 1, wantY = -1;
        m_labels = {'R', 'L', 'S', 'I'};
        break;
    case SliceOrientation::Sagittal:
        anatX = 1, anatY = 2, anatN = 0, wantX = 1, wantY = -1;
        m_labels = {'A', 'P', 'S', 'I'};
        break;
    }
    m_axes = {voxelAxisFor[anatX], voxelAxisFor[anatY], voxelAxisFor[anatN]};
    m_flip = {signFor[anatX] != wantX, signFor[anatY] != wantY, false};
}

std::array<std::int64_t, 3> SliceGeometry::voxelAt(std::int64_t x, std::int64_t y,
                                                   std::int64_t slice) const noexcept
{
    std::array<std::int64_t, 3> v{0, 0, 0};
    v[m_axes[0]] = m_flip[0] ? m_size[m_axes[0]] - 1 - x : x;
    v[m_axes[1]] = m_flip[1] ? m_size[m_axes[1]] - 1 - y : y;
    v[m_axes[2]] = slice;
    return v;
}

std::array<std::int64_t, 3>
SliceGeometry::screenOf(const std::array<std::int64_t, 3>& voxel) const noexcept
{
    const std::int64_t a = voxel[m_axes[0]];
    const std::int64_t b = voxel[m_axes[1]];
    return {m_flip[0] ? m_size[m_axes[0]] - 1 - a : a, m_flip[1] ? m_size[m_axes[1]] - 1 - b : b,
            voxel[m_axes[2]]};
}

std::array<double, 3> SliceGeometry::voxelAtPoint(double x, double y,
                                                  std::int64_t slice) const noexcept
{
    std::array<double, 3> v{0.0, 0.0, 0.0};
    v[m_axes[0]] = m_flip[0] ? double(m_size[m_axes[0]]) - x : x;
    v[m_axes[1]] = m_flip[1] ? double(m_size[m_axes[1]]) - y : y;
    v[m_axes[2]] = double(slice) + 0.5;
    return v;
}

std::array<double, 2> SliceGeometry::screenOf(const std::array<double, 3>& voxel) const noexcept
{
    // Continuous coordinates: pixel centres at +0.5, so a flip maps c to size - c.
    const double a = voxel[m_axes[0]];
    const double b = voxel[m_axes[1]];
    return {m_flip[0] ? double(m_size[m_axes[0]]) - a : a,
            m_flip[1] ? double(m_size[m_axes[1]]) - b : b};
}

} // namespace diffseg::core
