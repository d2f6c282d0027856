#include "RecentFiles.h"

#include <QAction>
#include <QFileInfo>
#include <QMenu>
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

void RecentFiles::fillMenu(QMenu* menu, std::function<void(const QString&)> open,
                           std::function<void(const QString&, int)> missing,
                           std::function<void(const QString&)> status)
{
    menu->clear();
    auto rebuild = [this, menu, open, missing, status] {
        fillMenu(menu, open, missing, status);
    };
    const QStringList list = files();
    for (int i = 0; i < list.size(); ++i) {
        const QString path = list[i];
        QAction* a =
            menu->addAction(QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(path).fileName()));
        a->setToolTip(path);
        a->setStatusTip(path);
        a->setData(path);
        QObject::connect(a, &QAction::triggered, menu, [this, path, open, missing, rebuild] {
            if (!QFileInfo::exists(path)) {
                const QStringList gone = pruneMissing();
                rebuild();
                missing(path, static_cast<int>(gone.size()));
                return;
            }
            open(path);
        });
    }
    menu->addSeparator();
    QAction* prune = menu->addAction(QObject::tr("Remove Missing Files"));
    prune->setToolTip(QObject::tr("Forget the files that no longer exist"));
    QObject::connect(prune, &QAction::triggered, menu, [this, status, rebuild] {
        const QStringList gone = pruneMissing();
        rebuild();
        status(gone.isEmpty() ? QObject::tr("Every recent file still exists")
                              : QObject::tr("Removed from the recent list (missing): %1")
                                    .arg(gone.join(QStringLiteral(", "))));
    });
    QAction* clearAll = menu->addAction(QObject::tr("Clear List"));
    clearAll->setToolTip(QObject::tr("Forget every recent file"));
    QObject::connect(clearAll, &QAction::triggered, menu, [this, rebuild] {
        clear();
        rebuild();
    });
    menu->setEnabled(true);
}

} // namespace diffseg::app
