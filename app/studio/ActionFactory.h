#pragma once

#include <QHash>
#include <QKeySequence>
#include <QList>
#include <QString>

class QAction;
class QWidget;

namespace diffseg::app {

/// Makes a named window action the studio's way: object name `name` (menus and tests find it in
/// `registry`), the tip as tool tip and status tip (with the first shortcut appended), the keys
/// active anywhere in `window`. The action is a child of `window` and added to it (so that its
/// shortcut works while no menu shows it). GUI thread only.
QAction* makeAction(QWidget* window, QHash<QString, QAction*>& registry, const QString& name,
                    const QString& text, const QString& tip, const QList<QKeySequence>& keys = {});

} // namespace diffseg::app
