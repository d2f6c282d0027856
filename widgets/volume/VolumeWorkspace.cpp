#include "VolumeWorkspace.h"

#include "VolumeView3D.h"
#include "base/Error.h"
#include "imaging/Intensity.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <vector>

namespace diffseg::widgets {

namespace {

struct WindowPreset
{
    const char* name;
    double window;
    double level;
};

// Standard CT display windows in Hounsfield units.
constexpr WindowPreset kCtPresets[] = {
    {"Soft tissue", 400, 40}, {"Lung", 1500, -600}, {"Bone", 1800, 400}, {"Brain", 80, 40}};

/// 1st..99th percentile window of a volume (MRI and other non-CT data).
std::array<double, 2> percentileWindow(const core::Volume& volume)
{
    const auto p = core::sampledPercentiles(volume, 0, 200000);
    if (!p) {
        return {1.0, 0.5};
    }
    const auto [lo, hi] = *p;
    return {std::max(hi - lo, 1e-3), (hi + lo) / 2};
}

} // namespace

VolumeWorkspace::VolumeWorkspace(QWidget* parent)
    : QWidget(parent)
{
    m_slices = {new SliceView(core::SliceOrientation::Axial, this),
                new SliceView(core::SliceOrientation::Coronal, this),
                new SliceView(core::SliceOrientation::Sagittal, this)};
    m_slices[0]->setObjectName(QStringLiteral("axialView"));
    m_slices[1]->setObjectName(QStringLiteral("coronalView"));
    m_slices[2]->setObjectName(QStringLiteral("sagittalView"));
    m_view3d = new VolumeView3D(this);

    m_presets = new QComboBox(this);
    m_presets->setToolTip(tr("Window/level preset; right-drag in a slice to adjust"));
    m_navigate = new QToolButton(this);
    m_navigate->setText(tr("Crosshair"));
    m_navigate->setToolTip(tr("Click to move the crosshair in all views"));
    m_brush = new QToolButton(this);
    m_brush->setText(tr("Brush"));
    m_brush->setToolTip(tr("Paint the chosen label in a slice ([ and ] change the size)"));
    m_eraser = new QToolButton(this);
    m_eraser->setText(tr("Eraser"));
    m_eraser->setToolTip(tr("Erase labels in a slice"));
    auto* tools = new QButtonGroup(this);
    for (QToolButton* b : {m_navigate, m_brush, m_eraser}) {
        b->setCheckable(true);
        tools->addButton(b);
    }
    m_navigate->setChecked(true);
    m_brushSize = new QDoubleSpinBox(this);
    m_brushSize->setRange(0.5, 100.0);
    m_brushSize->setValue(5.0);
    m_brushSize->setSuffix(tr(" mm"));
    m_brushSize->setToolTip(tr("Brush radius in millimetres"));
    m_label = new QSpinBox(this);
    m_label->setRange(1, 255);
    m_label->setToolTip(tr("Label value the brush paints"));

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Window:"), this));
    bar->addWidget(m_presets);
    bar->addSpacing(12);
    bar->addWidget(m_navigate);
    bar->addWidget(m_brush);
    bar->addWidget(m_eraser);
    bar->addWidget(new QLabel(tr("Size:"), this));
    bar->addWidget(m_brushSize);
    bar->addWidget(new QLabel(tr("Label:"), this));
    bar->addWidget(m_label);
    m_labelLegend = new QLabel(this);
    m_labelLegend->setObjectName(QStringLiteral("paintLabelName"));
    m_labelLegend->setVisible(false);
    bar->addWidget(m_labelLegend);
    bar->addStretch(1);

    auto* grid = new QGridLayout;
    grid->setSpacing(2);
    grid->addWidget(m_slices[0], 0, 0);
    grid->addWidget(m_slices[2], 0, 1);
    grid->addWidget(m_slices[1], 1, 0);
    grid->addWidget(m_view3d, 1, 1);
    // Four views of equal size, whatever their bars and titles ask for.
    for (int i = 0; i < 2; ++i) {
        grid->setColumnStretch(i, 1);
        grid->setRowStretch(i, 1);
    }
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addLayout(grid, 1);

    m_surfaceTimer = new QTimer(this);
    m_surfaceTimer->setSingleShot(true);
    m_surfaceTimer->setInterval(400);
    connect(m_surfaceTimer, &QTimer::timeout, this, &VolumeWorkspace::rebuildSurface);
    connect(m_presets, &QComboBox::textActivated, this, &VolumeWorkspace::applyWindowPreset);
    connect(m_navigate, &QToolButton::clicked, this,
            [this] { setTool(SliceView::Tool::Navigate); });
    connect(m_brush, &QToolButton::clicked, this, [this] { setTool(SliceView::Tool::Brush); });
    connect(m_eraser, &QToolButton::clicked, this, [this] { setTool(SliceView::Tool::Eraser); });
    connect(m_brushSize, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double mm) {
        for (SliceView* v : m_slices) {
            v->setBrushRadiusMm(mm);
        }
    });
    connect(m_label, qOverload<int>(&QSpinBox::valueChanged), this, [this](int label) {
        for (SliceView* v : m_slices) {
            v->setPaintLabel(label);
        }
        updateLabelLegend(); // the legend follows the painted label
    });
    linkViews();
    m_ownSession = std::make_unique<core::VolumeSession>();
    bindSession(nullptr);
}

VolumeWorkspace::~VolumeWorkspace()
{
    m_session->removeObserver(m_observer);
}

void VolumeWorkspace::bindSession(core::VolumeSession* session)
{
    if (m_session) {
        m_session->removeObserver(m_observer);
    }
    m_session = session ? session : m_ownSession.get();
    m_observer = m_session->addObserver([this](const core::SessionChange& change) {
        switch (change.event) {
        case core::SessionEvent::Opened:
            showSession();
            break;
        case core::SessionEvent::Labels:
            sessionLabelsChanged();
            break;
        case core::SessionEvent::History:
            Q_EMIT historyChanged();
            break;
        default:
            break;
        }
    });
    if (m_session->isOpen()) {
        showSession();
    }
    Q_EMIT historyChanged();
}

void VolumeWorkspace::setDisplayHints(bool isCt, int channel)
{
    m_isCt = isCt;
    m_channel = channel;
}

void VolumeWorkspace::linkViews()
{
    for (SliceView* v : m_slices) {
        connect(v, &SliceView::crosshairMoved, this, [this, v](const std::array<double, 3>& voxel) {
            for (SliceView* other : m_slices) {
                if (other != v) {
                    other->setCrosshair(voxel);
                }
            }
        });
        connect(v, &SliceView::windowLevelChanged, this, [this, v](double w, double l) {
            for (SliceView* other : m_slices) {
                if (other != v) {
                    other->setWindowLevel(w, l);
                }
            }
        });
        connect(v, &SliceView::labelsEdited, this, [this, v] { labelsEditedIn(v); });
        connect(v, &SliceView::promptClicked, this,
                [this](const std::array<double, 3>& voxel, int label) {
                    m_clicks.push_back({voxel, label});
                    for (SliceView* view : m_slices) {
                        view->setPromptMarkers(m_clicks);
                    }
                    Q_EMIT promptsChanged();
                });
        connect(v, &SliceView::hovered, this,
                [this](const std::array<std::int64_t, 3>& voxel, double value, int label) {
                    QString text = tr("voxel (%1, %2, %3)   value %4   label %5")
                                       .arg(voxel[0])
                                       .arg(voxel[1])
                                       .arg(voxel[2])
                                       .arg(value, 0, 'g', 5)
                                       .arg(label);
                    if (!m_overlay.empty()) {
                        const std::size_t n = m_overlay.linearIndex(voxel[0], voxel[1], voxel[2]);
                        const double raw =
                            core::dispatchPixelType(m_overlay.pixelType(), [&](auto tag) {
                                using T = decltype(tag);
                                return static_cast<double>(
                                    static_cast<const T*>(m_overlay.rawData())[n]);
                            });
                        text += tr("   heat map %1").arg(raw * m_overlayScale, 0, 'f', 3);
                    }
                    Q_EMIT hovered(text);
                });
    }
}

void VolumeWorkspace::setVolume(const core::Volume& volume, bool isCt, int channel)
{
    setDisplayHints(isCt, channel);
    m_session->openVolume(volume, {}); // the Opened event shows it
}

void VolumeWorkspace::showSession()
{
    const core::Volume& volume = m_session->volume();
    m_channel = std::clamp(m_channel, 0, std::max(0, volume.channels() - 1));
    m_volume = volume.channel(m_channel);
    const core::LabelMap& labels = m_session->labels();
    m_shownLabels = labels.rawData();
    m_groundTruth = {};
    m_surfaceLabels = {};
    m_overlay = {};
    clearPrompts();
    m_autoWindow = percentileWindow(m_volume);
    for (SliceView* v : m_slices) {
        v->setVolume(m_volume);
        v->setLabels(labels);
        v->setEditor(&m_session->editor());
    }
    m_presets->clear();
    m_presets->addItems(windowPresetNames());
    const QString preset = m_isCt ? QStringLiteral("Soft tissue") : QStringLiteral("Auto");
    applyWindowPreset(preset);
    m_presets->setCurrentText(preset);
    m_view3d->setVolume(m_volume, m_isCt);
    m_view3d->scene().setLabels(labels);
    m_view3d->setOverlayAvailable(false);
    Q_EMIT labelsChanged();
}

void VolumeWorkspace::clearPrompts()
{
    m_clicks.clear();
    for (SliceView* v : m_slices) {
        v->setPromptMarkers(m_clicks);
    }
}

void VolumeWorkspace::sessionLabelsChanged()
{
    if (m_volume.empty()) {
        return;
    }
    const core::LabelMap& labels = m_session->labels();
    if (labels.rawData() != m_shownLabels) {
        // New label memory (a map loaded as it is): the views draw from it from now on.
        m_shownLabels = labels.rawData();
        for (SliceView* v : m_slices) {
            v->setLabels(labels);
        }
        rebuildSurface();
    }
    labelsEditedIn(nullptr);
}

void VolumeWorkspace::checkAligned(const core::Volume& map, const char* what) const
{
    if (map.size() != m_volume.size() || !map.geometry().isClose(m_volume.geometry())) {
        throw core::Error(core::ErrorKind::Mismatch, what,
                          "is not on the grid of the volume shown (size, spacing, origin or "
                          "direction differ)");
    }
}

void VolumeWorkspace::replaceLabels(const core::LabelMap& labels, const std::string& title)
{
    checkAligned(labels, "label map");
    if (m_session->isOpen()) {
        m_session->replaceLabels(labels, title); // the Labels event refreshes the views
    }
}

void VolumeWorkspace::setOverlay(const core::Volume& map, double scale)
{
    if (!map.empty()) {
        checkAligned(map, "heat map");
    }
    // A step switch re-applies the heat map it already shows: the slices' colour layers and a
    // software-rendered 3D frame would be redone for nothing.
    if (map.rawData() == m_overlay.rawData() && map.pixelType() == m_overlay.pixelType() &&
        map.size() == m_overlay.size() && scale == m_overlayScale) {
        return;
    }
    m_overlay = map;
    m_overlayScale = scale;
    for (SliceView* v : m_slices) {
        v->setFloatOverlay(map, scale);
    }
    applyOverlayTo3d();
}

void VolumeWorkspace::applyOverlayTo3d()
{
    std::vector<std::array<double, 3>> colours;
    colours.reserve(256);
    const ColorMap map(m_colorMap);
    for (const QRgb c : map.table()) {
        colours.push_back({qRed(c) / 255.0, qGreen(c) / 255.0, qBlue(c) / 255.0});
    }
    const bool shown = m_view3d->scene().hasOverlay() &&
                       m_view3d->scene().overlayMode() != VolumeScene::OverlayMode::Hidden;
    m_view3d->scene().setOverlay(m_overlay, m_overlayScale, colours);
    m_view3d->setOverlayAvailable(!m_overlay.empty());
    // Hidden in 3D before and after: the frame would not change.
    if (shown || m_view3d->scene().overlayMode() != VolumeScene::OverlayMode::Hidden) {
        m_view3d->renderWidget()->requestRender();
    }
}

void VolumeWorkspace::setOverlayColorMap(ColorMap::Name name)
{
    m_colorMap = name;
    for (SliceView* v : m_slices) {
        v->setColorMap(name);
    }
    if (!m_overlay.empty()) {
        applyOverlayTo3d();
    }
}

void VolumeWorkspace::setOverlayOpacity(double opacity)
{
    for (SliceView* v : m_slices) {
        v->setOverlayOpacity(opacity);
    }
}

void VolumeWorkspace::setLabelOpacity(double opacity)
{
    for (SliceView* v : m_slices) {
        v->setLabelOpacity(opacity);
    }
}

void VolumeWorkspace::setGroundTruth(const core::LabelMap& labels)
{
    if (!labels.empty()) {
        checkAligned(labels, "ground truth");
    }
    m_groundTruth = labels;
    for (SliceView* v : m_slices) {
        v->setGroundTruth(labels);
    }
}

void VolumeWorkspace::setPreviewLabels(const core::LabelMap& labels)
{
    if (!labels.empty()) {
        checkAligned(labels, "preview");
    }
    for (SliceView* v : m_slices) {
        v->setPreviewLabels(labels);
    }
}

void VolumeWorkspace::setSurfaceLabels(const core::LabelMap& labels)
{
    if (!labels.empty()) {
        checkAligned(labels, "surface labels");
    }
    m_surfaceLabels = labels;
    m_surfaceTimer->start();
}

void VolumeWorkspace::setBrushRadiusMm(double mm)
{
    m_brushSize->setValue(mm);
}

double VolumeWorkspace::brushRadiusMm() const
{
    return m_brushSize->value();
}

void VolumeWorkspace::setPaintLabel(int label)
{
    m_label->setValue(label);
}

void VolumeWorkspace::setLabelNames(const std::vector<std::pair<int, QString>>& names)
{
    m_labelNames = names;
    QStringList lines;
    for (const auto& [value, name] : names) {
        if (value > 0) {
            lines << QStringLiteral("<span style=\"color:%1\">&#9632;</span> %2 %3")
                         .arg(SliceView::labelColor(value).name())
                         .arg(value)
                         .arg(name.toHtmlEscaped());
        }
    }
    m_labelLegend->setToolTip(tr("Labels of this model:<br>") + lines.join(QStringLiteral("<br>")));
    m_labelLegend->setVisible(!lines.isEmpty());
    updateLabelLegend();
}

void VolumeWorkspace::updateLabelLegend()
{
    if (m_labelLegend->isHidden()) {
        return;
    }
    const int value = m_label->value();
    const QString name = labelName(value);
    m_labelLegend->setText(QStringLiteral("<span style=\"color:%1\">&#9632;</span> %2")
                               .arg(SliceView::labelColor(value).name(),
                                    name.isEmpty() ? tr("(unnamed)") : name.toHtmlEscaped()));
}

QString VolumeWorkspace::labelName(int value) const
{
    for (const auto& [v, name] : m_labelNames) {
        if (v == value) {
            return name;
        }
    }
    return {};
}

void VolumeWorkspace::rebuildSurfaceNow()
{
    m_surfaceTimer->stop();
    rebuildSurface();
}

void VolumeWorkspace::setLabels(const core::LabelMap& labels)
{
    if (!labels.isAlignedWith(m_volume)) {
        throw core::Error(core::ErrorKind::Mismatch, "label map",
                          "is not on the grid of the volume shown (size, spacing, origin or "
                          "direction differ)");
    }
    m_session->setLabelsWithoutHistory(labels); // the Labels event shows the new memory
}

void VolumeWorkspace::setUncertainty(const core::Volume& map)
{
    setOverlay(map, 1.0);
}

SliceView* VolumeWorkspace::sliceView(core::SliceOrientation orientation) const
{
    return m_slices[static_cast<std::size_t>(orientation)];
}

void VolumeWorkspace::setCrosshair(const std::array<double, 3>& voxel)
{
    for (SliceView* v : m_slices) {
        v->setCrosshair(voxel);
    }
}

QStringList VolumeWorkspace::windowPresetNames() const
{
    QStringList names;
    if (m_isCt) {
        for (const WindowPreset& p : kCtPresets) {
            names << QString::fromLatin1(p.name);
        }
    }
    names << QStringLiteral("Auto");
    return names;
}

void VolumeWorkspace::applyWindowPreset(const QString& name)
{
    double w = m_autoWindow[0];
    double l = m_autoWindow[1];
    for (const WindowPreset& p : kCtPresets) {
        if (m_isCt && name == QLatin1String(p.name)) {
            w = p.window;
            l = p.level;
        }
    }
    for (SliceView* v : m_slices) {
        v->setWindowLevel(w, l);
    }
}

void VolumeWorkspace::setTool(SliceView::Tool tool)
{
    for (SliceView* v : m_slices) {
        v->setTool(tool);
    }
    m_navigate->setChecked(tool == SliceView::Tool::Navigate);
    m_brush->setChecked(tool == SliceView::Tool::Brush);
    m_eraser->setChecked(tool == SliceView::Tool::Eraser);
}

void VolumeWorkspace::labelsEditedIn(SliceView* source)
{
    for (SliceView* v : m_slices) {
        if (v != source) {
            v->refreshLabels();
        }
    }
    m_surfaceTimer->start();
    Q_EMIT labelsChanged();
}

void VolumeWorkspace::undo()
{
    if (m_session->isOpen() && m_session->history().canUndo()) {
        m_session->undo(); // the Labels event refreshes the views
    }
}

void VolumeWorkspace::redo()
{
    if (m_session->isOpen() && m_session->history().canRedo()) {
        m_session->redo();
    }
}

void VolumeWorkspace::rebuildSurface()
{
    m_view3d->scene().setLabels(m_surfaceLabels.empty() ? m_session->labels() : m_surfaceLabels);
    m_view3d->renderWidget()->requestRender();
}

} // namespace diffseg::widgets
