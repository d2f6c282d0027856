#include "RecentFiles.h"

#include <QFileInfo>
#include <QSettings>

namespace diffseg::app {

RecentFiles::RecentFiles(QSettings& settings, QString key, int maximum)
    : m_settings(settings)
    , m_key(std::move(key))
    , m_maximum(maximum)
{}

QStringList RecentFiles::files() const
{
    return m_settings.value(m_key).toStringList();
}

void RecentFiles::add(const QString& path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList list = files();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > m_maximum) {
        list.removeLast();
    }
    store(list);
}

void RecentFiles::remove(const QString& path)
{
    QStringList list = files();
    list.removeAll(QFileInfo(path).absoluteFilePath());
    list.removeAll(path);
    store(list);
}

void RecentFiles::clear()
{
    store({});
}

QStringList RecentFiles::pruneMissing()
{
    QStringList kept;
    QStringList gone;
    for (const QString& f : files()) {
        (QFileInfo::exists(f) ? kept : gone).append(f);
    }
    if (!gone.isEmpty()) {
        store(kept);
    }
    return gone;
}

void RecentFiles::store(const QStringList& files)
{
    m_settings.setValue(m_key, files);
    m_settings.sync();
}

} // namespace diffseg::app
