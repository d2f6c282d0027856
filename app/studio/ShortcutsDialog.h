#pragma once

#include <QDialog>
#include <QList>
#include <QPair>
#include <QString>
#include <QVector>

class QAction;
class QTableWidget;

namespace diffseg::app {

/// Help > Keyboard Shortcuts: a table of every menu action that has a shortcut, followed by the
/// keys that the views handle themselves (zoom, pan, brush size, step keys). Built from the live
/// actions, so it never disagrees with the menus. Owned by its parent window; GUI thread only.
class ShortcutsDialog : public QDialog
{
    Q_OBJECT

public:
    using KeyList = QVector<QPair<QString, QString>>; ///< keys, what they do

    ShortcutsDialog(const QList<QAction*>& actions, const KeyList& viewKeys,
                    QWidget* parent = nullptr);

    /// The rows shown: keys and description.
    KeyList rows() const { return m_rows; }

private:
    KeyList m_rows;
    QTableWidget* m_table = nullptr;
};

} // namespace diffseg::app
