#pragma once

#include "base/LabelMap.h"
#include "base/Volume.h"

#include <vtkSmartPointer.h>

#include <array>
#include <vector>

class vtkActor;
class vtkColorTransferFunction;
class vtkDiscreteFlyingEdges3D;
class vtkLookupTable;
class vtkPolyDataMapper;
class vtkWindowedSincPolyDataFilter;
class vtkImageData;
class vtkPiecewiseFunction;
class vtkProbeFilter;
class vtkRenderer;
class vtkSmartVolumeMapper;
class vtkVolume;
class vtkVolumeProperty;

namespace diffseg::widgets {

/// A VTK scene that volume-renders one channel of a core::Volume in its LPS placement, with the
/// label map as smoothed surfaces and an optional heat map (uncertainty, probability) shown as a
/// second, colour-mapped volume or painted onto the label surfaces.
///
/// Owns its renderer and pipeline; attach renderer() to any render window (the bridge widget, or
/// an offscreen window in tests). Shares voxels with the Volume (no copy). GUI thread only.
/// On a software rasteriser (Mesa llvmpipe) GPU ray casting costs ~1 s per frame, so
/// setPreferCpuRayCast(true) switches to VTK's CPU ray caster (~5x faster there).
class VolumeScene
{
public:
    /// Transfer-function presets. CT presets are in Hounsfield units; Auto spreads the colour map
    /// over the volume's 1st..99th percentile (MRI, z-scored data).
    enum class Preset
    {
        CtSoftTissue,
        CtBone,
        CtLung,
        Auto
    };

    /// How the heat map of setOverlay() appears in 3D.
    enum class OverlayMode
    {
        Hidden,       ///< not shown
        ColourVolume, ///< volume-rendered with its colour map; low values transparent
        Surface       ///< sampled at the label surfaces' vertices and painted on them
    };

    VolumeScene();
    ~VolumeScene();
    VolumeScene(const VolumeScene&) = delete;
    VolumeScene& operator=(const VolumeScene&) = delete;

    vtkRenderer* renderer() const;
    /// Shows channel `channel` of `volume` and resets the camera. Throws core::Error for a missing
    /// channel.
    void setVolume(const core::Volume& volume, int channel = 0);
    bool hasVolume() const { return m_hasVolume; }
    void setPreset(Preset preset);
    Preset preset() const { return m_preset; }
    void setPreferCpuRayCast(bool cpu);
    /// Front (anterior) view of the whole volume, head up: a fixed, reproducible camera.
    void resetCamera();

    /// Shows the label map as smoothed surfaces, one colour per label (the slice views' colours);
    /// an empty map removes them. Call again after edits (the surfaces are rebuilt).
    void setLabels(const core::LabelMap& labels);
    void setLabelsVisible(bool visible);
    void setVolumeVisible(bool visible);
    /// Number of triangles of the label surfaces (0 without labels).
    long long labelTriangles() const;

    /// A heat map on the volume's grid (same size; Float32, or UInt8 codes): t = value x `scale`
    /// in [0, 1] is coloured by `colours` (256 RGB fractions, entry i for t = i / 255). Shares the
    /// voxels; an empty map removes it. Throws core::Error(Mismatch) for another size or type.
    void setOverlay(const core::Volume& map, double scale,
                    const std::vector<std::array<double, 3>>& colours);
    bool hasOverlay() const { return m_hasOverlay; }
    void setOverlayMode(OverlayMode mode);
    OverlayMode overlayMode() const { return m_overlayMode; }
    /// The colour of label `label` as RGB fractions; the same table as the slice views.
    static std::array<double, 3> labelColor(int label);

    /// 1, or s when the CPU ray caster renders every s-th voxel of a large volume (above 16 M
    /// voxels) along each axis; the slice views and the label surfaces keep every voxel.
    int displayStride() const { return m_displayStride; }
    /// 1, or s when the label surfaces of a large label map (above 16 M voxels) are built from
    /// every s-th voxel along each axis.
    int surfaceStride() const { return m_surfaceStride; }

private:
    void applyVolumeInput();
    void applyPreset();
    void applyOverlay();

    vtkSmartPointer<vtkRenderer> m_renderer;
    vtkSmartPointer<vtkVolume> m_volume;
    vtkSmartPointer<vtkSmartVolumeMapper> m_mapper;
    vtkSmartPointer<vtkVolumeProperty> m_property;
    vtkSmartPointer<vtkColorTransferFunction> m_colors;
    vtkSmartPointer<vtkPiecewiseFunction> m_opacity;
    vtkSmartPointer<vtkDiscreteFlyingEdges3D> m_surface;
    vtkSmartPointer<vtkWindowedSincPolyDataFilter> m_smoother;
    vtkSmartPointer<vtkPolyDataMapper> m_surfaceMapper;
    vtkSmartPointer<vtkLookupTable> m_labelColors;
    vtkSmartPointer<vtkActor> m_surfaceActor;
    vtkSmartPointer<vtkVolume> m_overlayVolume;
    vtkSmartPointer<vtkSmartVolumeMapper> m_overlayMapper;
    vtkSmartPointer<vtkColorTransferFunction> m_overlayColors;
    vtkSmartPointer<vtkPiecewiseFunction> m_overlayOpacity;
    vtkSmartPointer<vtkProbeFilter> m_probe;
    vtkSmartPointer<vtkPolyDataMapper> m_paintedMapper;
    vtkSmartPointer<vtkLookupTable> m_overlayLut;
    vtkSmartPointer<vtkActor> m_paintedActor;
    std::array<std::int64_t, 3> m_volumeSize{0, 0, 0};
    OverlayMode m_overlayMode = OverlayMode::Hidden;
    bool m_hasOverlay = false;
    bool m_hasLabels = false;
    bool m_labelsVisible = true;
    core::Volume m_source;        ///< the volume shown (shares its voxels)
    core::Volume m_display;       ///< its subsampled copy for CPU ray casting, when one is needed
    core::Volume m_surfaceLabels; ///< the labels' subsampled copy for the surfaces, if needed
    int m_surfaceStride = 1;
    int m_channel = 0;
    int m_displayStride = 1;
    bool m_preferCpu = false;
    Preset m_preset = Preset::Auto;
    std::array<double, 2> m_percentiles{0.0, 1.0};
    bool m_hasVolume = false;
};

} // namespace diffseg::widgets
