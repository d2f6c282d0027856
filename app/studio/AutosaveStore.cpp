#include "AutosaveStore.h"

#include "base/Error.h"
#include "io/ImageWriter.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>

#include <algorithm>
#include <atomic>

namespace diffseg::app {

namespace {

const QString kSessionFile = QStringLiteral("session.json");
const QString kMaskFile = QStringLiteral("mask.png");
const QString kLockFile = QStringLiteral("session.lock");

std::atomic<int> g_sessionCounter{0};

} // namespace

AutosaveStore::AutosaveStore(QString root)
    : m_root(std::move(root))
{
    m_folder = QDir(m_root).filePath(QStringLiteral("session-%1-%2")
                                         .arg(QCoreApplication::applicationPid())
                                         .arg(++g_sessionCounter));
}

AutosaveStore::~AutosaveStore()
{
    if (m_lock) {
        m_lock->unlock();
    }
}

void AutosaveStore::ensureFolder()
{
    if (m_lock) {
        return;
    }
    if (!QDir().mkpath(m_folder)) {
        throw core::Error(core::ErrorKind::Io, m_folder.toStdString(),
                          "cannot create the autosave folder");
    }
    auto lock = std::make_unique<QLockFile>(QDir(m_folder).filePath(kLockFile));
    lock->setStaleLockTime(0);
    if (!lock->tryLock(0)) {
        throw core::Error(core::ErrorKind::Io, m_folder.toStdString(),
                          "cannot lock the autosave folder");
    }
    m_lock = std::move(lock);
}

void AutosaveStore::save(const core::Session& session)
{
    ensureFolder();
    session.autosave(m_folder.toStdString());
    m_saved = true;
}

void AutosaveStore::discard()
{
    if (m_lock) {
        m_lock->unlock();
        m_lock.reset();
    }
    QDir(m_folder).removeRecursively();
    m_saved = false;
}

std::vector<AutosaveRecord> AutosaveStore::recoverable() const
{
    std::vector<AutosaveRecord> out;
    const QDir root(m_root);
    for (const QFileInfo& entry :
         root.entryInfoList({QStringLiteral("session-*")}, QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QString folder = entry.absoluteFilePath();
        if (folder == QFileInfo(m_folder).absoluteFilePath()) {
            continue;
        }
        QLockFile lock(QDir(folder).filePath(kLockFile));
        lock.setStaleLockTime(0);
        // A lock held by a live process (another window, another instance) is a running session.
        if (!lock.tryLock(0)) {
            continue;
        }
        lock.unlock();
        QFile file(QDir(folder).filePath(kSessionFile));
        if (!file.open(QIODevice::ReadOnly)) {
            continue;
        }
        const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
        AutosaveRecord r;
        r.folder = folder;
        r.kind = json.value(QStringLiteral("kind")).toString(QStringLiteral("photo"));
        r.imagePath = json.value(QStringLiteral("image")).toString();
        r.groundTruthPath = json.value(QStringLiteral("groundTruth")).toString();
        r.maskPath = QDir(folder).filePath(json.value(QStringLiteral("mask")).toString(kMaskFile));
        r.saved = QDateTime::fromString(json.value(QStringLiteral("saved")).toString(),
                                        Qt::ISODateWithMs);
        r.edits = json.value(QStringLiteral("edits")).toInt();
        if (!r.imagePath.isEmpty() && QFileInfo::exists(r.maskPath)) {
            out.push_back(r);
        }
    }
    std::sort(out.begin(), out.end(),
              [](const AutosaveRecord& a, const AutosaveRecord& b) { return a.saved > b.saved; });
    return out;
}

void AutosaveStore::remove(const AutosaveRecord& record)
{
    if (!record.folder.isEmpty()) {
        QDir(record.folder).removeRecursively();
    }
}

} // namespace diffseg::app
