#pragma once

#include <QObject>
#include <QString>

#include <functional>

class QTimer;

namespace diffseg::core {
class Session;
}

namespace diffseg::app {

class AutosaveStore;

/// When a session's unsaved edits are autosaved: a short while after the last edit (so that a
/// stroke is not written pixel by pixel) and every so often while edits wait, into an
/// AutosaveStore. The photo and the volume workspace each keep one.
///
/// Ownership: a QObject child of its workflow; the store and the sessions are the caller's.
/// Threads: GUI thread. Errors: a failed write is reported through failed(); nothing throws.
class SessionAutosave : public QObject
{
    Q_OBJECT

public:
    /// `sessionToSave` names the session to write now, or null when there is nothing to save
    /// (no document from a file, no unsaved edits).
    using SessionSource = std::function<const core::Session*()>;

    SessionAutosave(AutosaveStore& store, SessionSource sessionToSave, int intervalMs,
                    int debounceMs, QObject* parent);

    AutosaveStore& store() { return m_store; }
    /// An edit happened: save after the debounce interval.
    void markEdited();
    /// Writes the autosave now; false when there is nothing to save or the write failed.
    bool saveNow();
    /// The edits were saved or dropped: removes this session's autosave.
    void discard();

Q_SIGNALS:
    void failed(const QString& message);

private:
    AutosaveStore& m_store;
    SessionSource m_sessionToSave;
    QTimer* m_debounce = nullptr;
    QTimer* m_periodic = nullptr;
    bool m_pending = false;
};

} // namespace diffseg::app
