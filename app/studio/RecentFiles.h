#pragma once

#include <QString>
#include <QStringList>

#include <functional>

class QMenu;
class QSettings;

namespace diffseg::app {

/// The File > Open Recent list, newest first, kept in QSettings so that it survives restarts.
/// Does not own the settings (they must outlive it). GUI thread only.
class RecentFiles
{
public:
    explicit RecentFiles(QSettings& settings, QString key = QStringLiteral("recentFiles"),
                         int maximum = 10);

    QStringList files() const;
    /// Moves `path` (made absolute) to the front; the oldest entries beyond the maximum go.
    void add(const QString& path);
    void remove(const QString& path);
    void clear();
    /// Drops the entries whose file no longer exists and returns them.
    QStringList pruneMissing();
    /// Fills `menu` with the files (numbered, newest first), then Remove Missing Files and Clear
    /// List. Choosing a file calls `open`, or, when it no longer exists, prunes the list and calls
    /// `missing(path, count removed)`; pruning by hand calls `status` with what went. The menu
    /// is rebuilt after each change. `menu` must outlive its actions' use of this object.
    void fillMenu(QMenu* menu, std::function<void(const QString&)> open,
                  std::function<void(const QString&, int)> missing,
                  std::function<void(const QString&)> status);

private:
    void store(const QStringList& files);

    QSettings& m_settings;
    QString m_key;
    int m_maximum;
};

} // namespace diffseg::app
