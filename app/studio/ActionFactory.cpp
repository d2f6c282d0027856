#include "ActionFactory.h"

#include <QAction>
#include <QWidget>

namespace diffseg::app {

QAction* makeAction(QWidget* window, QHash<QString, QAction*>& registry, const QString& name,
                    const QString& text, const QString& tip, const QList<QKeySequence>& keys)
{
    auto* a = new QAction(text, window);
    a->setObjectName(name);
    a->setStatusTip(tip);
    a->setShortcuts(keys);
    // Tool-bar tooltips show the shortcut too.
    a->setToolTip(keys.isEmpty() ? tip
                                 : QStringLiteral("%1 (%2)").arg(
                                       tip, keys.first().toString(QKeySequence::NativeText)));
    a->setShortcutContext(Qt::WindowShortcut);
    window->addAction(a);
    registry.insert(name, a);
    return a;
}

} // namespace diffseg::app
