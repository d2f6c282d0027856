#pragma once

#include "base/CancelToken.h"

#include <QObject>
#include <QString>

#include <functional>

class QThread;

namespace diffseg::app {

/// What the studio's segmentation runners share: one run at a time on a worker thread of its own,
/// cancellation, and the end of a run reported on the GUI thread as finished() or failed().
///
/// Threads: startWorker(), cancel(), waitForIdle() and isRunning() are for the GUI thread; the
/// worker body runs on the worker and reaches the GUI only through postToGui() (queued
/// invocations on this object). Ownership: owns the thread. A subclass's destructor must call
/// stopWorker() before its own members go, because the worker may be using them.
/// Errors: the body's core::Error or std::exception becomes failed(message, cancelled); nothing
/// throws into the GUI.
class BackgroundRunner : public QObject
{
    Q_OBJECT

public:
    ~BackgroundRunner() override;

    /// Asks the run to stop at its next check; failed(..., true) follows.
    void cancel();
    /// Cancels the run because a newer request replaces it (a newer click): however it ends,
    /// superseded() follows instead of finished() or failed(), and its output is dropped. False
    /// when nothing runs.
    bool supersede();
    bool isRunning() const { return m_running; }
    /// Waits until the worker thread ends (tests, shutdown); true when it did within `ms`.
    bool waitForIdle(int ms);

    /// Identifies a loaded model: the same file (path, size, modification time) and preset on the
    /// same device (and precision: "cpu/bf16"), so that a runner reloads only when one of them
    /// changed.
    static QString loadedModelKey(const QString& checkpoint, const QString& preset,
                                  const QString& device);

Q_SIGNALS:
    void finished();
    /// The run ended without a result: `cancelled`, or an error described by `message`.
    void failed(const QString& message, bool cancelled);
    /// A superseded run ended: the runner is free for the request that replaces it.
    void superseded();

protected:
    BackgroundRunner(QString threadName, QObject* parent);

    /// Starts `body` on a new worker thread; false (and nothing happens) while a run is going.
    /// The body's exceptions end the run with failed(); it ends a successful run itself with
    /// postFinished().
    bool startWorker(std::function<void(const core::CancelToken&)> body);
    /// Cancels a run and waits for its thread (subclass destructors).
    void stopWorker();
    /// Runs `call` on the GUI thread, later.
    void postToGui(std::function<void()> call);
    /// From the worker: `apply` runs on the GUI thread, then the run is over and finished() says
    /// so.
    void postFinished(std::function<void()> apply);

private:
    void postFailure(const QString& message, bool cancelled);
    /// Marks the run over; emits superseded() and returns true when it was superseded.
    bool endSuperseded();

    QString m_threadName;
    QThread* m_thread = nullptr;
    core::CancelToken m_cancel;
    bool m_running = false;
    bool m_superseded = false;
};

} // namespace diffseg::app
