#pragma once

#include "session/Session.h"

#include <QDateTime>
#include <QString>

#include <memory>
#include <vector>

class QLockFile;

namespace diffseg::app {

/// An autosave left behind by a session that did not close cleanly.
struct AutosaveRecord
{
    QString folder;
    QString kind = QStringLiteral("photo"); ///< "photo" or "volume" (core::inputKindName)
    QString imagePath;
    QString groundTruthPath;
    QString maskPath;
    QDateTime saved;
    int edits = 0; ///< undo steps at the time of the save
};

/// Autosaves of the mask being edited, so that a crash loses at most a few seconds of work.
///
/// Each running window owns a session folder `<root>/session-<pid>-<n>/` holding what
/// core::Session::autosave writes (`session.json`: the image, the ground truth, the time; and
/// `mask.png`, both atomically), and a QLockFile that marks the session as alive. A clean close
/// removes the folder; a folder whose lock is not held by a live process is what a crashed session
/// left, and recoverable() lists it.
///
/// Ownership: owns its lock; the destructor releases the lock but keeps the folder (only
/// discard() removes it, so a window destroyed without closing counts as a crash). GUI thread.
/// Errors: save() throws core::Error naming the file; the other calls never throw.
class AutosaveStore
{
public:
    explicit AutosaveStore(QString root);
    ~AutosaveStore();
    AutosaveStore(const AutosaveStore&) = delete;
    AutosaveStore& operator=(const AutosaveStore&) = delete;

    const QString& root() const { return m_root; }
    /// This session's folder (created by the first save()).
    const QString& sessionFolder() const { return m_folder; }
    bool hasSaved() const { return m_saved; }

    /// Writes the session's autosave (its labels and session.json, core::Session::autosave)
    /// into this window's folder, locking the folder first.
    void save(const core::Session& session);
    /// Removes this session's autosave (clean close, or after the edits were saved).
    void discard();

    /// Autosaves of sessions that ended without a clean close, newest first.
    std::vector<AutosaveRecord> recoverable() const;
    /// Deletes a recovered (or declined) autosave.
    static void remove(const AutosaveRecord& record);

private:
    void ensureFolder();

    QString m_root;
    QString m_folder;
    std::unique_ptr<QLockFile> m_lock;
    bool m_saved = false;
};

} // namespace diffseg::app
