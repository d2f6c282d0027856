#include "VolumeScene.h"

#include "VtkImageAdapter.h"
#include "imaging/Intensity.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkColorTransferFunction.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkLookupTable.h>
#include <vtkMatrix4x4.h>
#include <vtkPiecewiseFunction.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProbeFilter.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkSmartVolumeMapper.h>
#include <vtkVolume.h>
#include <vtkVolumeProperty.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace diffseg::widgets {

namespace {

/// 1st and 99th percentiles of one channel, from a strided sample (enough for a colour map).
std::array<double, 2> percentileRange(const core::Volume& volume, int channel)
{
    std::vector<float> values = core::sampleVoxels(volume, channel, 200000);
    if (values.empty()) {
        return {0.0, 1.0};
    }
    auto at = [&](double q) {
        const auto k = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
        std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k),
                         values.end());
        return static_cast<double>(values[k]);
    };
    const double lo = at(0.01);
    const double hi = at(0.99);
    return {lo, hi > lo ? hi : lo + 1.0};
}

/// CPU ray casting visits every voxel for its gradients on the first frame and again on each
/// turn: above this many voxels the 3D view renders every s-th voxel (the slices keep them all).
constexpr std::size_t kCpuRenderVoxels = 16u * 1024u * 1024u;

/// Every `stride`-th voxel of `channel` along each axis, with the spacing multiplied by `stride`:
/// voxel (0, 0, 0) and the direction stay, so the placement of the full volume still applies.
core::Volume subsampled(const core::Volume& volume, int channel, int stride)
{
    const auto& n = volume.size();
    const std::array<std::int64_t, 3> m = {
        (n[0] + stride - 1) / stride, (n[1] + stride - 1) / stride, (n[2] + stride - 1) / stride};
    core::Geometry geometry = volume.geometry();
    for (double& s : geometry.spacing) {
        s *= stride;
    }
    core::Volume out(m, 1, volume.pixelType(), geometry);
    core::dispatchPixelType(volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* in = volume.channelData<T>(channel);
        T* o = out.data<T>();
        for (std::int64_t k = 0; k < m[2]; ++k) {
            for (std::int64_t j = 0; j < m[1]; ++j) {
                const T* row = in + volume.linearIndex(0, j * stride, k * stride);
                for (std::int64_t i = 0; i < m[0]; ++i) {
                    *o++ = row[i * stride];
                }
            }
        }
    });
    return out;
}

} // namespace

VolumeScene::VolumeScene()
    : m_renderer(vtkSmartPointer<vtkRenderer>::New())
    , m_volume(vtkSmartPointer<vtkVolume>::New())
    , m_mapper(vtkSmartPointer<vtkSmartVolumeMapper>::New())
    , m_property(vtkSmartPointer<vtkVolumeProperty>::New())
    , m_colors(vtkSmartPointer<vtkColorTransferFunction>::New())
    , m_opacity(vtkSmartPointer<vtkPiecewiseFunction>::New())
    , m_surface(vtkSmartPointer<vtkDiscreteFlyingEdges3D>::New())
    , m_smoother(vtkSmartPointer<vtkWindowedSincPolyDataFilter>::New())
    , m_surfaceMapper(vtkSmartPointer<vtkPolyDataMapper>::New())
    , m_labelColors(vtkSmartPointer<vtkLookupTable>::New())
    , m_surfaceActor(vtkSmartPointer<vtkActor>::New())
    , m_overlayVolume(vtkSmartPointer<vtkVolume>::New())
    , m_overlayMapper(vtkSmartPointer<vtkSmartVolumeMapper>::New())
    , m_overlayColors(vtkSmartPointer<vtkColorTransferFunction>::New())
    , m_overlayOpacity(vtkSmartPointer<vtkPiecewiseFunction>::New())
    , m_probe(vtkSmartPointer<vtkProbeFilter>::New())
    , m_paintedMapper(vtkSmartPointer<vtkPolyDataMapper>::New())
    , m_overlayLut(vtkSmartPointer<vtkLookupTable>::New())
    , m_paintedActor(vtkSmartPointer<vtkActor>::New())
{
    m_renderer->SetBackground(0.08, 0.09, 0.11);
    m_renderer->SetBackground2(0.22, 0.24, 0.29);
    m_renderer->GradientBackgroundOn();
    m_property->SetColor(m_colors);
    m_property->SetScalarOpacity(m_opacity);
    m_property->SetInterpolationTypeToLinear();
    m_property->ShadeOn();
    m_property->SetAmbient(0.3);
    m_property->SetDiffuse(0.7);
    m_property->SetSpecular(0.2);
    m_volume->SetMapper(m_mapper);
    m_volume->SetProperty(m_property);
    m_mapper->SetBlendModeToComposite();

    // Label surfaces: discrete flying edges, then windowed-sinc smoothing (no shrinkage bias).
    m_surface->ComputeNormalsOff();
    m_smoother->SetInputConnection(m_surface->GetOutputPort());
    m_smoother->SetNumberOfIterations(15);
    m_smoother->SetPassBand(0.05);
    m_smoother->BoundarySmoothingOff();
    m_smoother->NonManifoldSmoothingOn();
    m_smoother->NormalizeCoordinatesOn();
    m_surfaceMapper->SetInputConnection(m_smoother->GetOutputPort());
    // Label values are scalars: they must go through the lookup table, not be used as colours.
    m_surfaceMapper->SetColorModeToMapScalars();
    m_surfaceMapper->SetScalarModeToDefault();
    m_surfaceMapper->SetLookupTable(m_labelColors);
    m_surfaceMapper->UseLookupTableScalarRangeOn();
    m_surfaceActor->SetMapper(m_surfaceMapper);
    m_surfaceActor->GetProperty()->SetSpecular(0.3);
    m_surfaceActor->GetProperty()->SetSpecularPower(20);

    // The heat map as a volume: no shading, so that its colours read like the legend's.
    auto* overlayProperty = vtkVolumeProperty::New();
    overlayProperty->SetColor(m_overlayColors);
    overlayProperty->SetScalarOpacity(m_overlayOpacity);
    overlayProperty->SetInterpolationTypeToLinear();
    overlayProperty->ShadeOff();
    m_overlayVolume->SetProperty(overlayProperty);
    overlayProperty->Delete();
    m_overlayVolume->SetMapper(m_overlayMapper);
    m_overlayMapper->SetBlendModeToComposite();

    // The heat map on the label surfaces: sampled (trilinearly) at the smoothed vertices, which
    // lie in the same index x spacing frame as the map's image.
    m_probe->SetInputConnection(m_smoother->GetOutputPort());
    m_paintedMapper->SetInputConnection(m_probe->GetOutputPort());
    m_paintedMapper->SetColorModeToMapScalars();
    m_paintedMapper->SetScalarModeToUsePointFieldData();
    m_paintedMapper->SelectColorArray("voxels");
    m_paintedMapper->SetLookupTable(m_overlayLut);
    m_paintedMapper->UseLookupTableScalarRangeOn();
    m_paintedActor->SetMapper(m_paintedMapper);
    m_paintedActor->GetProperty()->SetSpecular(0.2);
    m_paintedActor->GetProperty()->SetSpecularPower(20);
}

VolumeScene::~VolumeScene() = default;

vtkRenderer* VolumeScene::renderer() const
{
    return m_renderer;
}

void VolumeScene::setVolume(const core::Volume& volume, int channel)
{
    m_source = volume;
    m_channel = channel;
    applyVolumeInput();
    m_volume->SetUserMatrix(VtkImageAdapter::placement(volume.geometry()));
    m_percentiles = percentileRange(volume, channel);
    m_volumeSize = volume.size();
    setOverlay({}, 1.0, {});
    if (!m_hasVolume) {
        m_renderer->AddVolume(m_volume);
        m_hasVolume = true;
    }
    applyPreset();
    resetCamera();
}

void VolumeScene::applyVolumeInput()
{
    m_displayStride = 1;
    if (m_preferCpu) {
        while (m_source.voxelCount() /
                   static_cast<std::size_t>(m_displayStride * m_displayStride * m_displayStride) >
               kCpuRenderVoxels) {
            ++m_displayStride;
        }
    }
    m_display =
        m_displayStride == 1 ? core::Volume() : subsampled(m_source, m_channel, m_displayStride);
    m_mapper->SetInputData(m_displayStride == 1 ? VtkImageAdapter::toImageData(m_source, m_channel)
                                                : VtkImageAdapter::toImageData(m_display, 0));
}

void VolumeScene::setLabels(const core::LabelMap& labels)
{
    if (labels.empty() || labels.maxLabel() == 0) {
        m_hasLabels = false;
        applyOverlay();
        return;
    }
    const int maxLabel = labels.maxLabel();
    // Surface extraction and smoothing run on the GUI thread after every edit: above 16 M voxels
    // (about 0.5 s there) they work on every s-th voxel, as the CPU ray caster does.
    m_surfaceStride = 1;
    while (labels.voxelCount() /
               static_cast<std::size_t>(m_surfaceStride * m_surfaceStride * m_surfaceStride) >
           kCpuRenderVoxels) {
        ++m_surfaceStride;
    }
    m_surfaceLabels =
        m_surfaceStride == 1 ? core::Volume() : subsampled(labels, 0, m_surfaceStride);
    const core::Volume& surfaceInput =
        m_surfaceStride == 1 ? static_cast<const core::Volume&>(labels) : m_surfaceLabels;
    m_surface->SetInputData(VtkImageAdapter::toImageData(surfaceInput));
    m_surface->GenerateValues(maxLabel, 1, maxLabel);
    m_labelColors->SetNumberOfTableValues(maxLabel + 1);
    m_labelColors->SetTableRange(0, maxLabel);
    for (int l = 0; l <= maxLabel; ++l) {
        const auto c = labelColor(l);
        m_labelColors->SetTableValue(l, c[0], c[1], c[2], l == 0 ? 0.0 : 1.0);
    }
    m_labelColors->Build();
    m_surfaceActor->SetUserMatrix(VtkImageAdapter::placement(labels.geometry()));
    m_paintedActor->SetUserMatrix(VtkImageAdapter::placement(labels.geometry()));
    m_hasLabels = true;
    applyOverlay();
}

void VolumeScene::setLabelsVisible(bool visible)
{
    m_labelsVisible = visible;
    m_surfaceActor->SetVisibility(visible);
    m_paintedActor->SetVisibility(visible);
}

void VolumeScene::setOverlay(const core::Volume& map, double scale,
                             const std::vector<std::array<double, 3>>& colours)
{
    if (map.empty()) {
        m_hasOverlay = false;
        m_probe->RemoveAllInputConnections(1);
        m_overlayMapper->RemoveAllInputConnections(0);
        applyOverlay();
        return;
    }
    if (map.size() != m_volumeSize || (map.pixelType() != core::PixelType::Float32 &&
                                       map.pixelType() != core::PixelType::UInt8)) {
        throw core::Error(core::ErrorKind::Mismatch, "3D overlay",
                          "must be a float32 or uint8 map with the size of the volume shown");
    }
    if (colours.size() != 256 || !(scale > 0.0)) {
        throw core::Error(core::ErrorKind::InvalidValue, "3D overlay",
                          "needs 256 colours and a positive scale");
    }
    vtkSmartPointer<vtkImageData> image = VtkImageAdapter::toImageData(map, 0);
    m_overlayMapper->SetInputData(image);
    m_overlayVolume->SetUserMatrix(VtkImageAdapter::placement(map.geometry()));
    m_probe->SetSourceData(image);
    // Colours and opacity in the map's own units: t = value x scale.
    const double top = 1.0 / scale;
    m_overlayColors->RemoveAllPoints();
    m_overlayLut->SetNumberOfTableValues(256);
    for (int i = 0; i < 256; ++i) {
        const auto& c = colours[static_cast<std::size_t>(i)];
        if (i % 15 == 0 || i == 255) {
            m_overlayColors->AddRGBPoint(top * i / 255.0, c[0], c[1], c[2]);
        }
        m_overlayLut->SetTableValue(i, c[0], c[1], c[2], 1.0);
    }
    m_overlayLut->SetTableRange(0.0, top);
    m_overlayLut->Build();
    // Certain voxels (t < 0.15) stay invisible so that the uncertain shell shows.
    m_overlayOpacity->RemoveAllPoints();
    m_overlayOpacity->AddPoint(0.0, 0.0);
    m_overlayOpacity->AddPoint(0.15 * top, 0.0);
    m_overlayOpacity->AddPoint(0.5 * top, 0.25);
    m_overlayOpacity->AddPoint(top, 0.7);
    m_hasOverlay = true;
    applyOverlay();
}

void VolumeScene::setOverlayMode(OverlayMode mode)
{
    m_overlayMode = mode;
    applyOverlay();
}

void VolumeScene::applyOverlay()
{
    const bool painted = m_hasOverlay && m_hasLabels && m_overlayMode == OverlayMode::Surface;
    const bool colourVolume = m_hasOverlay && m_overlayMode == OverlayMode::ColourVolume;
    auto show = [this](vtkProp* prop, bool on) {
        if (on && !m_renderer->HasViewProp(prop)) {
            m_renderer->AddViewProp(prop);
        } else if (!on && m_renderer->HasViewProp(prop)) {
            m_renderer->RemoveViewProp(prop);
        }
    };
    show(m_surfaceActor, m_hasLabels && !painted);
    show(m_paintedActor, painted);
    show(m_overlayVolume, colourVolume);
}

void VolumeScene::setVolumeVisible(bool visible)
{
    m_volume->SetVisibility(visible);
}

long long VolumeScene::labelTriangles() const
{
    if (!m_hasLabels) {
        return 0;
    }
    m_smoother->Update();
    return m_smoother->GetOutput()->GetNumberOfPolys();
}

std::array<double, 3> VolumeScene::labelColor(int label)
{
    // The slice views' label colours (ITK-SNAP-like defaults), as fractions.
    static const int kColors[16][3] = {
        {255, 0, 0},    {0, 255, 0},     {0, 0, 255},     {255, 255, 0},
        {0, 255, 255},  {255, 0, 255},   {255, 239, 213}, {0, 0, 205},
        {205, 133, 63}, {210, 180, 140}, {102, 205, 170}, {0, 0, 128},
        {0, 139, 139},  {46, 139, 87},   {255, 228, 225}, {106, 90, 205}};
    if (label <= 0) {
        return {0.0, 0.0, 0.0};
    }
    const int* c = kColors[(label - 1) % 16];
    return {c[0] / 255.0, c[1] / 255.0, c[2] / 255.0};
}

void VolumeScene::setPreset(Preset preset)
{
    m_preset = preset;
    applyPreset();
}

void VolumeScene::setPreferCpuRayCast(bool cpu)
{
    if (cpu != m_preferCpu) {
        m_preferCpu = cpu;
        if (m_hasVolume) {
            applyVolumeInput();
        }
    }
    for (vtkSmartVolumeMapper* mapper : {m_mapper.Get(), m_overlayMapper.Get()}) {
        if (cpu) {
            mapper->SetRequestedRenderModeToRayCast();
        } else {
            mapper->SetRequestedRenderModeToDefault();
        }
    }
}

void VolumeScene::resetCamera()
{
    if (!m_hasVolume) {
        return;
    }
    vtkCamera* camera = m_renderer->GetActiveCamera();
    double bounds[6];
    m_volume->GetBounds(bounds);
    const double center[3] = {(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2,
                              (bounds[4] + bounds[5]) / 2};
    // LPS: anterior is -P (-y); superior is +S (+z). Look at the patient's front, head up.
    camera->SetFocalPoint(center);
    camera->SetPosition(center[0], center[1] - 1.0, center[2]);
    camera->SetViewUp(0.0, 0.0, 1.0);
    m_renderer->ResetCamera(bounds);
    camera->Elevation(20.0);
    camera->Azimuth(30.0);
    camera->OrthogonalizeViewUp();
    m_renderer->ResetCameraClippingRange();
}

void VolumeScene::applyPreset()
{
    m_colors->RemoveAllPoints();
    m_opacity->RemoveAllPoints();
    switch (m_preset) {
    case Preset::CtSoftTissue:
        // Fat and plain soft tissue stay faint so that organs, vessels and lesions show through.
        m_colors->AddRGBPoint(-1000, 0.0, 0.0, 0.0);
        m_colors->AddRGBPoint(-100, 0.75, 0.55, 0.35);
        m_colors->AddRGBPoint(40, 0.80, 0.40, 0.35);
        m_colors->AddRGBPoint(70, 0.75, 0.30, 0.25);
        m_colors->AddRGBPoint(110, 1.0, 0.85, 0.35);
        m_colors->AddRGBPoint(250, 1.0, 0.55, 0.45);
        m_colors->AddRGBPoint(600, 1.0, 1.0, 0.95);
        m_opacity->AddPoint(-1000, 0.0);
        m_opacity->AddPoint(-150, 0.0);
        m_opacity->AddPoint(-90, 0.004);
        m_opacity->AddPoint(30, 0.006);
        m_opacity->AddPoint(60, 0.008);
        m_opacity->AddPoint(80, 0.01);
        m_opacity->AddPoint(100, 0.5);
        m_opacity->AddPoint(250, 0.6);
        m_opacity->AddPoint(600, 0.9);
        break;
    case Preset::CtBone:
        m_colors->AddRGBPoint(-1000, 0.0, 0.0, 0.0);
        m_colors->AddRGBPoint(150, 0.7, 0.5, 0.35);
        m_colors->AddRGBPoint(500, 1.0, 0.95, 0.85);
        m_opacity->AddPoint(-1000, 0.0);
        m_opacity->AddPoint(150, 0.0);
        m_opacity->AddPoint(300, 0.5);
        m_opacity->AddPoint(1000, 0.9);
        break;
    case Preset::CtLung:
        m_colors->AddRGBPoint(-1000, 0.3, 0.5, 0.9);
        m_colors->AddRGBPoint(-600, 0.8, 0.85, 1.0);
        m_colors->AddRGBPoint(-200, 1.0, 0.8, 0.7);
        m_opacity->AddPoint(-1000, 0.0);
        m_opacity->AddPoint(-900, 0.0);
        m_opacity->AddPoint(-800, 0.05);
        m_opacity->AddPoint(-500, 0.2);
        m_opacity->AddPoint(-300, 0.0);
        break;
    case Preset::Auto: {
        const double lo = m_percentiles[0];
        const double hi = m_percentiles[1];
        const double span = hi - lo;
        m_colors->AddRGBPoint(lo, 0.0, 0.0, 0.0);
        m_colors->AddRGBPoint(lo + 0.4 * span, 0.6, 0.35, 0.25);
        m_colors->AddRGBPoint(lo + 0.7 * span, 0.95, 0.75, 0.5);
        m_colors->AddRGBPoint(hi, 1.0, 1.0, 1.0);
        m_opacity->AddPoint(lo, 0.0);
        m_opacity->AddPoint(lo + 0.25 * span, 0.0);
        m_opacity->AddPoint(lo + 0.6 * span, 0.15);
        m_opacity->AddPoint(hi, 0.6);
        break;
    }
    }
}

} // namespace diffseg::widgets
