#pragma once

#include <QList>
#include <QObject>
#include <QString>

class QAction;
class QActionGroup;
class QSettings;

namespace diffseg::app {

/// The Model menu's Device (automatic, CPU, CUDA GPU) and Precision (automatic, float32,
/// bfloat16) choices, remembered in the settings (models/device, models/precision). What this
/// machine cannot do is said up front: "CUDA GPU (none found)" is disabled, bfloat16 says when it
/// is emulated. Both workflows read the choice when they start a run.
///
/// Ownership: the actions are children of this object; `settings` must outlive it. Threads: GUI
/// thread only.
class ComputeChoices : public QObject
{
    Q_OBJECT

public:
    ComputeChoices(QSettings& settings, QObject* parent);

    /// "auto", "cpu" or "cuda" ("auto" where the remembered "cuda" has no GPU here).
    QString device() const;
    /// "auto", "fp32" or "bf16".
    QString precision() const;
    QList<QAction*> deviceActions() const;
    QList<QAction*> precisionActions() const;

private:
    QSettings& m_settings;
    QActionGroup* m_device = nullptr;
    QActionGroup* m_precision = nullptr;
};

} // namespace diffseg::app
