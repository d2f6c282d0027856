#include "ModelOptionRows.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSpinBox>

#include <algorithm>
#include <initializer_list>

namespace diffseg::widgets {

ModelOptionRows::ModelOptionRows(QWidget* parent, QFormLayout* form)
    : QObject(parent)
    , m_form(form)
{
    m_sampler = new QComboBox(parent);
    m_sampler->setObjectName(QStringLiteral("samplerBox"));
    m_sampler->addItem(tr("DDIM (fast)"), true);
    m_sampler->addItem(tr("DDPM (reference, all steps)"), false);
    m_sampler->setToolTip(tr("DDIM skips steps and is deterministic at eta 0; DDPM runs every "
                             "step exactly as the published method"));
    m_steps = new QSpinBox(parent);
    m_steps->setObjectName(QStringLiteral("stepsBox"));
    m_steps->setRange(1, 1000);
    m_ensemble = new QSpinBox(parent);
    m_ensemble->setObjectName(QStringLiteral("ensembleBox"));
    m_ensemble->setRange(1, 32);
    m_ensemble->setValue(5);
    m_ensemble->setToolTip(tr("Masks sampled from different noise; their spread is the "
                              "uncertainty. They run as one batch."));
    m_eta = new QDoubleSpinBox(parent);
    m_eta->setObjectName(QStringLiteral("etaBox"));
    m_eta->setRange(0.0, 1.0);
    m_eta->setSingleStep(0.1);
    m_eta->setToolTip(tr("DDIM eta: 0 deterministic, 1 as random as DDPM"));
    m_overlap = new QDoubleSpinBox(parent);
    m_overlap->setObjectName(QStringLiteral("overlapBox"));
    m_overlap->setRange(0.0, 0.9);
    m_overlap->setSingleStep(0.125);
    m_overlap->setDecimals(3);
    m_overlap->setValue(0.5);
    m_overlap->setToolTip(tr("Overlap of the sliding windows (0.5 as the reference; less is "
                             "faster)"));
    m_fusion = new QComboBox(parent);
    m_fusion->setObjectName(QStringLiteral("fusionBox"));
    m_fusion->addItem(tr("Mean of the steps"), QStringLiteral("mean"));
    m_fusion->addItem(tr("Uncertainty-weighted"), QStringLiteral("uncertainty"));
    m_fusion->setToolTip(tr("How the steps' predictions are fused (PURE): the released mean, or "
                            "weighted by each step's certainty"));
    m_seed = new QSpinBox(parent);
    m_seed->setObjectName(QStringLiteral("seedBox"));
    m_seed->setRange(0, 1 << 30);
    m_seed->setToolTip(tr("Random seed of the initial noise: the same seed gives the same result"));
    m_mirror = new QCheckBox(tr("Mirror TTA (8x slower)"), parent);
    m_mirror->setObjectName(QStringLiteral("mirrorTtaBox"));
    m_mirror->setToolTip(tr("Average the 8 mirrored passes; also gives the mirror-variance "
                            "uncertainty map"));

    form->addRow(tr("Sampler:"), m_sampler);
    form->addRow(tr("Steps:"), m_steps);
    form->addRow(tr("Ensemble:"), m_ensemble);
    form->addRow(tr("Eta:"), m_eta);
    form->addRow(tr("Overlap:"), m_overlap);
    form->addRow(tr("Fusion:"), m_fusion);
    form->addRow(tr("Seed:"), m_seed);
    form->addRow(m_mirror);
    for (QWidget* w : {static_cast<QWidget*>(m_sampler), static_cast<QWidget*>(m_steps),
                       static_cast<QWidget*>(m_ensemble), static_cast<QWidget*>(m_eta),
                       static_cast<QWidget*>(m_overlap), static_cast<QWidget*>(m_fusion),
                       static_cast<QWidget*>(m_seed), static_cast<QWidget*>(m_mirror)}) {
        form->setRowVisible(w, false);
    }

    connect(m_sampler, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        if (!ddim()) {
            m_steps->setValue(m_steps->maximum()); // DDPM runs every step
        }
        updateEnabled();
        Q_EMIT changed();
    });
}

void ModelOptionRows::setCapabilities(const core::ModelCapabilities& can)
{
    m_can = can;
    const bool samplers = !can.samplers.empty();
    m_form->setRowVisible(m_sampler, samplers);
    m_form->setRowVisible(m_steps, true);
    m_form->setRowVisible(m_ensemble, can.ensemble);
    m_form->setRowVisible(m_eta, samplers);
    m_form->setRowVisible(m_overlap, can.slidingWindow);
    m_form->setRowVisible(m_fusion, can.stepFusion);
    m_form->setRowVisible(m_seed, true);
    m_form->setRowVisible(m_mirror, can.mirrorTta);
    m_steps->setMaximum(can.maxSteps > 0 ? can.maxSteps : 1000);
    if (samplers && !ddim()) {
        m_steps->setValue(m_steps->maximum());
    }
    m_steps->setToolTip(can.slidingWindow
                            ? tr("Denoiser steps per window; each step's prediction can be browsed")
                            : tr("Number of DDIM steps: fewer is faster, more is closer to DDPM"));
    updateEnabled();
}

bool ModelOptionRows::ddim() const
{
    return m_sampler->currentData().toBool();
}

core::SegmentationRequest ModelOptionRows::options() const
{
    core::SegmentationRequest r;
    if (!m_can.samplers.empty()) {
        r.sampler = ddim() ? "ddim" : "ddpm";
        r.eta = m_eta->value();
    }
    r.steps = m_can.samplers.empty() || ddim() ? m_steps->value() : 0;
    if (m_can.ensemble) {
        r.ensemble = m_ensemble->value();
    }
    if (m_can.slidingWindow) {
        r.overlap = m_overlap->value();
    }
    if (m_can.stepFusion) {
        r.fusion = m_fusion->currentData().toString().toStdString();
    }
    r.mirrorTta = m_can.mirrorTta && m_mirror->isChecked();
    r.seed = static_cast<std::uint64_t>(m_seed->value());
    return r;
}

void ModelOptionRows::setOptions(const core::SegmentationRequest& r)
{
    if (!r.sampler.empty()) {
        m_sampler->setCurrentIndex(r.sampler == "ddpm" ? 1 : 0);
    }
    if (r.steps > 0 && (m_can.samplers.empty() || ddim())) {
        m_steps->setValue(r.steps);
    }
    if (r.ensemble > 0) {
        m_ensemble->setValue(r.ensemble);
    }
    if (r.eta >= 0.0) {
        m_eta->setValue(r.eta);
    }
    if (r.overlap >= 0.0) {
        m_overlap->setValue(r.overlap);
    }
    if (!r.fusion.empty()) {
        m_fusion->setCurrentIndex(
            std::max(0, m_fusion->findData(QString::fromStdString(r.fusion))));
    }
    m_mirror->setChecked(r.mirrorTta);
    m_seed->setValue(static_cast<int>(std::min<std::uint64_t>(r.seed, 1u << 30)));
}

bool ModelOptionRows::applyCard(const core::ModelCard& card)
{
    core::SegmentationRequest r = options();
    bool set = false;
    const auto text = [&](const char* key, bool shown, std::string& out) {
        if (const auto value = card.validatedText(key); value && shown) {
            out = *value;
            set = true;
        }
    };
    const auto number = [&](const char* key, bool shown, auto& out) {
        if (const auto value = card.validatedNumber(key); value && shown) {
            out = static_cast<std::decay_t<decltype(out)>>(*value);
            set = true;
        }
    };
    text("sampler", !m_can.samplers.empty(), r.sampler);
    number("steps", true, r.steps);
    number("ensemble", m_can.ensemble, r.ensemble);
    number("eta", !m_can.samplers.empty(), r.eta);
    number("overlap", m_can.slidingWindow, r.overlap);
    text("fusion", m_can.stepFusion, r.fusion);
    if (r.fusion != "mean" && r.fusion != "uncertainty") {
        r.fusion.clear(); // a fusion this build does not know: the panel's stays
    }
    if (const auto mirror = card.validatedText("mirror_tta");
        m_can.mirrorTta && (mirror == "true" || mirror == "false")) {
        r.mirrorTta = *mirror == "true";
        set = true;
    }
    if (set) {
        if (!r.sampler.empty() && r.sampler != "ddim" && r.sampler != "ddpm") {
            r.sampler.clear();
        }
        setOptions(r);
    }
    return set;
}

void ModelOptionRows::setEditable(bool editable)
{
    m_editable = editable;
    updateEnabled();
}

void ModelOptionRows::updateEnabled()
{
    for (QWidget* w : std::initializer_list<QWidget*>{m_sampler, m_ensemble, m_overlap, m_fusion,
                                                      m_seed, m_mirror}) {
        w->setEnabled(m_editable);
    }
    const bool stepsChosen = m_can.samplers.empty() || ddim();
    m_steps->setEnabled(m_editable && stepsChosen);
    m_eta->setEnabled(m_editable && stepsChosen);
}

} // namespace diffseg::widgets
