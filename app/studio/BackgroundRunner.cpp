#include "BackgroundRunner.h"

#include "base/Error.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QThread>

namespace diffseg::app {

BackgroundRunner::BackgroundRunner(QString threadName, QObject* parent)
    : QObject(parent)
    , m_threadName(std::move(threadName))
{}

BackgroundRunner::~BackgroundRunner()
{
    stopWorker();
}

void BackgroundRunner::stopWorker()
{
    m_cancel.cancel();
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
}

QString BackgroundRunner::loadedModelKey(const QString& checkpoint, const QString& preset,
                                         const QString& device)
{
    const QFileInfo info(checkpoint);
    return QStringLiteral("%1|%2|%3|%4|%5")
        .arg(info.absoluteFilePath(), preset, device)
        .arg(info.size())
        .arg(info.lastModified().toMSecsSinceEpoch());
}

bool BackgroundRunner::startWorker(std::function<void(const core::CancelToken&)> body)
{
    if (m_running) {
        return false;
    }
    if (m_thread) {
        // The previous worker posted its end just before returning: this wait is short, and it
        // orders the worker's writes (e.g. to a cached model) before this run reads them.
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
    m_running = true;
    m_cancel = core::CancelToken();
    const core::CancelToken token = m_cancel;
    m_thread = QThread::create([this, body = std::move(body), token] {
        try {
            body(token);
        } catch (const core::Error& e) {
            postFailure(QString::fromStdString(e.what()), e.kind() == core::ErrorKind::Cancelled);
        } catch (const std::exception& e) {
            postFailure(QString::fromStdString(e.what()), false);
        }
    });
    m_thread->setObjectName(m_threadName);
    m_thread->start();
    return true;
}

void BackgroundRunner::cancel()
{
    m_cancel.cancel();
}

bool BackgroundRunner::supersede()
{
    if (!m_running) {
        return false;
    }
    m_superseded = true;
    m_cancel.cancel();
    return true;
}

bool BackgroundRunner::endSuperseded()
{
    m_running = false;
    if (!m_superseded) {
        return false;
    }
    m_superseded = false;
    Q_EMIT superseded();
    return true;
}

bool BackgroundRunner::waitForIdle(int ms)
{
    return !m_thread || m_thread->wait(QDeadlineTimer(ms));
}

void BackgroundRunner::postToGui(std::function<void()> call)
{
    QMetaObject::invokeMethod(this, std::move(call), Qt::QueuedConnection);
}

void BackgroundRunner::postFinished(std::function<void()> apply)
{
    postToGui([this, apply = std::move(apply)] {
        if (m_superseded) {
            endSuperseded(); // a newer request replaces this result
            return;
        }
        apply();
        m_running = false;
        Q_EMIT finished();
    });
}

void BackgroundRunner::postFailure(const QString& message, bool cancelled)
{
    postToGui([this, message, cancelled] {
        if (!endSuperseded()) {
            Q_EMIT failed(message, cancelled);
        }
    });
}

} // namespace diffseg::app
