#include "ShortcutsDialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace diffseg::app {

ShortcutsDialog::ShortcutsDialog(const QList<QAction*>& actions, const KeyList& viewKeys,
                                 QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Keyboard Shortcuts"));
    setObjectName(QStringLiteral("shortcutsDialog"));
    for (const QAction* a : actions) {
        const QList<QKeySequence> keys = a->shortcuts();
        if (keys.isEmpty()) {
            continue;
        }
        QStringList text;
        for (const QKeySequence& k : keys) {
            text << k.toString(QKeySequence::NativeText);
        }
        // Undo/Redo titles change with the history; the table names the command.
        QString name = a->property("shortcutName").toString();
        if (name.isEmpty()) {
            name = a->text().remove(QLatin1Char('&')).remove(QStringLiteral("..."));
        }
        m_rows.append({text.join(QStringLiteral(", ")), name});
    }
    m_rows += viewKeys;

    m_table = new QTableWidget(static_cast<int>(m_rows.size()), 2, this);
    m_table->setHorizontalHeaderLabels({tr("Keys"), tr("Does")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    for (int i = 0; i < m_rows.size(); ++i) {
        m_table->setItem(i, 0, new QTableWidgetItem(m_rows[i].first));
        m_table->setItem(i, 1, new QTableWidgetItem(m_rows[i].second));
    }
    m_table->resizeColumnsToContents();
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Menu commands work anywhere in the window; the view keys "
                                    "work while the image view (or the step browser) has the "
                                    "keyboard focus."),
                                 this));
    layout->addWidget(m_table, 1);
    layout->addWidget(buttons);
    resize(560, 620);
}

} // namespace diffseg::app
