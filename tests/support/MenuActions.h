#pragma once

#include <QAction>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>

namespace diffseg::test {

/// The action of `window`'s menu `menu` (title without the & mnemonic) whose text (without &) or
/// object name is `key`; nullptr when there is none. Header-only: only widget tests include it.
inline QAction* findMenuAction(QMainWindow& window, const QString& menu, const QString& key)
{
    const auto plain = [](const QAction* a) {
        return a->text().remove(QLatin1Char('&'));
    };
    for (QAction* m : window.menuBar()->actions()) {
        if (plain(m) != menu || m->menu() == nullptr) {
            continue;
        }
        for (QAction* a : m->menu()->actions()) {
            if (plain(a) == key || a->objectName() == key) {
                return a;
            }
        }
    }
    return nullptr;
}

} // namespace diffseg::test
