#include "LabelCanvas.h"

namespace diffseg::core {

LabelCanvas::LabelCanvas(Image2D& mask)
{
    if (mask.channels() != 1 || mask.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::InvalidValue, "",
                    "only a 1-channel uint8 mask can be edited, not " + mask.describe());
    }
    m_data = mask.rawData();
    m_size = {mask.width(), mask.height(), 1};
    m_spacing = {mask.spacing()[0], mask.spacing()[1], 1.0};
    m_type = PixelType::UInt8;
}

LabelCanvas::LabelCanvas(LabelMap& labels)
{
    m_data = labels.rawData();
    m_size = labels.size();
    m_spacing = labels.geometry().spacing;
    m_type = labels.pixelType();
}

std::array<std::int64_t, 2> LabelCanvas::planeSize(const EditPlane& plane) const noexcept
{
    return inPlane(m_size, plane.axis);
}

std::array<double, 2> LabelCanvas::planeSpacing(const EditPlane& plane) const noexcept
{
    return inPlane(m_spacing, plane.axis);
}

std::array<std::int64_t, 3> LabelCanvas::toIndex(const EditPlane& plane, std::int64_t u,
                                                 std::int64_t v) const noexcept
{
    switch (plane.axis) {
    case 0:
        return {plane.index, u, v};
    case 1:
        return {u, plane.index, v};
    default:
        return {u, v, plane.index};
    }
}

IndexBox LabelCanvas::planeBox(const EditPlane& plane) const
{
    if (plane.axis < 0 || plane.axis > 2 || plane.index < 0 || plane.index >= m_size[plane.axis]) {
        throw Error(ErrorKind::InvalidValue, "",
                    "slice " + std::to_string(plane.index) + " along axis " +
                        std::to_string(plane.axis) + " is outside the label grid");
    }
    IndexBox box = IndexBox::whole(m_size);
    box.lo[plane.axis] = plane.index;
    box.hi[plane.axis] = plane.index + 1;
    return box;
}

void LabelCanvas::checkValue(int value) const
{
    if (value < 0 || value > maxLabel()) {
        throw Error(ErrorKind::InvalidValue, "",
                    "label " + std::to_string(value) + " does not fit this label map (0.." +
                        std::to_string(maxLabel()) + ")");
    }
}

} // namespace diffseg::core
