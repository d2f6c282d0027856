#pragma once

#include <QString>
#include <QStringList>

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

private:
    void store(const QStringList& files);

    QSettings& m_settings;
    QString m_key;
    int m_maximum;
};

} // namespace diffseg::app
