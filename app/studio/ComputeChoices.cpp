#include "ComputeChoices.h"

#include "engine/Precision.h"
#include "runtime/Runtime.h"

#include <QAction>
#include <QActionGroup>
#include <QSettings>

#include <utility>

namespace diffseg::app {

ComputeChoices::ComputeChoices(QSettings& settings, QObject* parent)
    : QObject(parent)
    , m_settings(settings)
{
    m_device = new QActionGroup(this);
    const QString device = m_settings.value(QStringLiteral("models/device"), "auto").toString();
    const bool cudaAvailable = core::libraryVersions().cudaAvailable;
    for (const auto& [id, text] :
         {std::pair<QString, QString>{"auto", tr("Automatic (GPU when usable)")},
          {"cpu", tr("CPU")},
          {"cuda", tr("CUDA GPU")}}) {
        auto* a = new QAction(text, this);
        a->setObjectName(QStringLiteral("device_") + id);
        a->setCheckable(true);
        a->setData(id);
        a->setToolTip(tr("Where the model runs; a GPU is much faster"));
        a->setActionGroup(m_device);
        a->setChecked(id == device || (id == "auto" && device == "cuda" && !cudaAvailable));
        if (id == "cuda" && !cudaAvailable) {
            // Said up front rather than as an error after pressing Segment.
            a->setEnabled(false);
            a->setText(tr("CUDA GPU (none found)"));
            a->setToolTip(tr("No CUDA GPU found (this LibTorch has no CUDA, or no GPU is "
                             "visible): models run on the CPU"));
        }
        connect(a, &QAction::triggered, this,
                [this, id = id] { m_settings.setValue(QStringLiteral("models/device"), id); });
    }
    m_precision = new QActionGroup(this);
    const QString precision =
        m_settings.value(QStringLiteral("models/precision"), "auto").toString();
    const bool nativeBf16 = core::engine::cpuHasNativeBf16();
    for (const auto& [id, text] :
         {std::pair<QString, QString>{"auto", nativeBf16 ? tr("Automatic (bf16 on this CPU)")
                                                         : tr("Automatic (fp32 on this CPU)")},
          {"fp32", tr("float32")},
          {"bf16", nativeBf16 ? tr("bfloat16") : tr("bfloat16 (emulated: slower here)")}}) {
        auto* a = new QAction(text, this);
        a->setObjectName(QStringLiteral("precision_") + id);
        a->setCheckable(true);
        a->setData(id);
        a->setToolTip(tr("The arithmetic the model runs in: bfloat16 is about twice as fast where "
                         "the processor has it (AVX512-BF16, AMX, or a recent GPU), with the same "
                         "masks up to rounding"));
        a->setActionGroup(m_precision);
        a->setChecked(id == precision);
        connect(a, &QAction::triggered, this,
                [this, id = id] { m_settings.setValue(QStringLiteral("models/precision"), id); });
    }
}

QString ComputeChoices::device() const
{
    return m_device->checkedAction() ? m_device->checkedAction()->data().toString()
                                     : QStringLiteral("auto");
}

QString ComputeChoices::precision() const
{
    return m_precision->checkedAction() ? m_precision->checkedAction()->data().toString()
                                        : QStringLiteral("auto");
}

QList<QAction*> ComputeChoices::deviceActions() const
{
    return m_device->actions();
}

QList<QAction*> ComputeChoices::precisionActions() const
{
    return m_precision->actions();
}

} // namespace diffseg::app
