#include "TrainingPanel.h"

#include <QBrush>
#include <QDateTime>
#include <QFileInfo>
#include <QTreeWidget>

// The training panel's list of runs: one row per run folder, its status, progress and update time.

namespace diffseg::widgets {

namespace {

QColor statusColor(const QString& status)
{
    if (status == QLatin1String("running")) {
        return QColor(31, 102, 184);
    }
    if (status == QLatin1String("completed")) {
        return QColor(39, 130, 60);
    }
    if (status == QLatin1String("failed") || status == QLatin1String("crashed")) {
        return QColor(192, 40, 40);
    }
    return QColor(150, 100, 20); // stopped
}

} // namespace

//------------------------------------------------------------------------------------------------
// Runs

void TrainingPanel::updateRunItem(QTreeWidgetItem* item, const TrainingRunInfo& run)
{
    item->setText(ColumnName, run.name);
    item->setData(ColumnName, Qt::UserRole, run.dir);
    item->setText(ColumnStatus, run.status);
    item->setForeground(ColumnStatus, statusColor(run.status));
    item->setText(ColumnProgress, run.totalSteps > 0 ? tr("%1 / %2 steps, epoch %3 / %4")
                                                           .arg(run.step)
                                                           .arg(run.totalSteps)
                                                           .arg(run.epoch)
                                                           .arg(run.epochs)
                                                     : QString());
    item->setText(ColumnUpdated, run.updated.isValid()
                                     ? QLocale().toString(run.updated, QLocale::ShortFormat)
                                     : QString());
    QString tip = QDir::toNativeSeparators(run.dir);
    if (!run.message.isEmpty()) {
        tip += QLatin1Char('\n') + run.message;
    }
    tip += QLatin1Char('\n') + (run.lastCheckpoint.isEmpty()
                                    ? tr("no checkpoint yet")
                                    : tr("last checkpoint: %1").arg(run.lastCheckpoint));
    if (!run.bestCheckpoint.isEmpty()) {
        tip += QLatin1Char('\n') + tr("best checkpoint: %1").arg(run.bestCheckpoint);
    }
    for (int c = 0; c < ColumnCount; ++c) {
        item->setToolTip(c, tip);
    }
    // The whole record rides on the item, so that the panel can answer runInfo() without the app.
    item->setData(ColumnStatus, Qt::UserRole, run.message);
    item->setData(ColumnProgress, Qt::UserRole, run.lastCheckpoint);
    item->setData(ColumnProgress, Qt::UserRole + 1, run.bestCheckpoint);
    item->setData(ColumnProgress, Qt::UserRole + 2, run.step);
    item->setData(ColumnProgress, Qt::UserRole + 3, run.totalSteps);
    item->setData(ColumnProgress, Qt::UserRole + 4, run.epoch);
    item->setData(ColumnProgress, Qt::UserRole + 5, run.epochs);
    item->setData(ColumnUpdated, Qt::UserRole, run.updated);
}

void TrainingPanel::setRuns(const std::vector<TrainingRunInfo>& runs)
{
    const QString selected = selectedRun();
    {
        const QSignalBlocker block(m_runs);
        m_runs->clear();
        for (const TrainingRunInfo& run : runs) {
            updateRunItem(new QTreeWidgetItem(m_runs), run);
        }
        for (int c = ColumnStatus; c < ColumnCount; ++c) {
            m_runs->resizeColumnToContents(c);
        }
        selectRun(selected);
    }
    updateEnabled();
}

void TrainingPanel::updateRun(const TrainingRunInfo& run)
{
    for (int i = 0; i < m_runs->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_runs->topLevelItem(i);
        if (item->data(ColumnName, Qt::UserRole).toString() == run.dir) {
            updateRunItem(item, run);
            updateEnabled();
            return;
        }
    }
    const QSignalBlocker block(m_runs);
    auto* item = new QTreeWidgetItem;
    updateRunItem(item, run);
    m_runs->insertTopLevelItem(0, item);
    updateEnabled();
}

void TrainingPanel::selectRun(const QString& dir)
{
    for (int i = 0; i < m_runs->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_runs->topLevelItem(i);
        if (item->data(ColumnName, Qt::UserRole).toString() == dir) {
            m_runs->setCurrentItem(item);
            return;
        }
    }
}

QString TrainingPanel::selectedRun() const
{
    const QList<QTreeWidgetItem*> items = m_runs->selectedItems();
    return items.isEmpty() ? QString() : items.front()->data(ColumnName, Qt::UserRole).toString();
}

QString TrainingPanel::runStatus(const QString& dir) const
{
    return runInfo(dir).status;
}

TrainingRunInfo TrainingPanel::runInfo(const QString& dir) const
{
    TrainingRunInfo run;
    for (int i = 0; i < m_runs->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = m_runs->topLevelItem(i);
        if (item->data(ColumnName, Qt::UserRole).toString() != dir) {
            continue;
        }
        run.dir = dir;
        run.name = item->text(ColumnName);
        run.status = item->text(ColumnStatus);
        run.message = item->data(ColumnStatus, Qt::UserRole).toString();
        run.lastCheckpoint = item->data(ColumnProgress, Qt::UserRole).toString();
        run.bestCheckpoint = item->data(ColumnProgress, Qt::UserRole + 1).toString();
        run.step = item->data(ColumnProgress, Qt::UserRole + 2).toLongLong();
        run.totalSteps = item->data(ColumnProgress, Qt::UserRole + 3).toLongLong();
        run.epoch = item->data(ColumnProgress, Qt::UserRole + 4).toInt();
        run.epochs = item->data(ColumnProgress, Qt::UserRole + 5).toInt();
        run.updated = item->data(ColumnUpdated, Qt::UserRole).toDateTime();
        break;
    }
    return run;
}

} // namespace diffseg::widgets
