#include "SessionAutosave.h"

#include "AutosaveStore.h"
#include "base/Error.h"
#include "session/Session.h"

#include <QTimer>

#include <utility>

namespace diffseg::app {

SessionAutosave::SessionAutosave(AutosaveStore& store, SessionSource sessionToSave, int intervalMs,
                                 int debounceMs, QObject* parent)
    : QObject(parent)
    , m_store(store)
    , m_sessionToSave(std::move(sessionToSave))
{
    m_debounce = new QTimer(this);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(debounceMs);
    connect(m_debounce, &QTimer::timeout, this, &SessionAutosave::saveNow);
    m_periodic = new QTimer(this);
    m_periodic->setInterval(intervalMs);
    connect(m_periodic, &QTimer::timeout, this, [this] {
        if (m_pending) {
            saveNow();
        }
    });
    m_periodic->start();
}

void SessionAutosave::markEdited()
{
    m_pending = true;
    m_debounce->start();
}

bool SessionAutosave::saveNow()
{
    const core::Session* session = m_sessionToSave ? m_sessionToSave() : nullptr;
    if (!session) {
        return false;
    }
    try {
        m_store.save(*session);
    } catch (const core::Error& e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
        return false;
    }
    m_pending = false;
    return true;
}

void SessionAutosave::discard()
{
    m_debounce->stop();
    m_pending = false;
    m_store.discard();
}

} // namespace diffseg::app
