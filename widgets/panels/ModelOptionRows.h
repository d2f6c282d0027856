#pragma once

#include "inference/ModelCard.h"
#include "inference/Segmenter.h"

#include <QObject>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QSpinBox;
class QWidget;

namespace diffseg::widgets {

/// The options of a model run as rows of a panel's form, driven by what the model can do
/// (core::ModelCapabilities): a sampler and its eta where the family has samplers, an ensemble,
/// the sliding-window overlap, the step fusion and mirror TTA where it has them, and the steps
/// and seed of every family; the rows a model lacks are hidden and stay neutral in options().
/// The photo and the volume model panels show the same rows for their model (SegmentationPanel).
///
/// Ownership: the widgets are children of the parent given to the constructor. GUI thread only.
class ModelOptionRows : public QObject
{
    Q_OBJECT

public:
    /// Makes the widgets and adds their rows to `form` (all hidden until setCapabilities()).
    ModelOptionRows(QWidget* parent, QFormLayout* form);

    /// Shows the rows `can` has, with its step range, and the tool tips of its family.
    void setCapabilities(const core::ModelCapabilities& can);
    const core::ModelCapabilities& capabilities() const { return m_can; }

    /// The chosen options in the seam's form (the rows shown; a DDPM sampler runs every step).
    core::SegmentationRequest options() const;
    /// Sets the rows the request speaks to (an empty sampler, zero steps or ensemble, a
    /// negative eta or overlap leave theirs as they are).
    void setOptions(const core::SegmentationRequest& request);
    /// Sets the rows shown to what the model card says the model was validated with (sampler,
    /// steps, ensemble, eta, overlap, fusion, mirror TTA); true when the card set any.
    bool applyCard(const core::ModelCard& card);
    /// Enables the rows (false while a run goes).
    void setEditable(bool editable);

Q_SIGNALS:
    void changed();

private:
    bool ddim() const;
    void updateEnabled();

    QFormLayout* m_form = nullptr;
    QComboBox* m_sampler = nullptr;
    QSpinBox* m_steps = nullptr;
    QSpinBox* m_ensemble = nullptr;
    QDoubleSpinBox* m_eta = nullptr;
    QDoubleSpinBox* m_overlap = nullptr;
    QComboBox* m_fusion = nullptr;
    QSpinBox* m_seed = nullptr;
    QCheckBox* m_mirror = nullptr;
    core::ModelCapabilities m_can;
    bool m_editable = true;
};

} // namespace diffseg::widgets
