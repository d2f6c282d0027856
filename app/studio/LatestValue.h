#pragma once

#include <atomic>
#include <mutex>
#include <optional>

namespace diffseg::app {

/// A one-slot mailbox from a worker thread to the GUI that keeps only the newest value: a busy GUI
/// skips updates instead of queueing them. put() tells the worker whether to post a notification
/// (only when none is pending); take() clears the pending flag first, so a value that arrives
/// while the GUI takes the previous one posts a new notification.
/// Threads: put() from the worker, take() from the GUI thread, any of them at the same time.
template <typename T>
class LatestValue
{
public:
    /// Stores `value` (replacing one not yet taken); true when the caller should notify.
    bool put(T value)
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_value) {
                ++m_skipped;
            }
            m_value = std::move(value);
        }
        if (m_pending.exchange(true)) {
            return false;
        }
        ++m_notified;
        return true;
    }

    /// The newest value not yet taken (empty when there is none).
    std::optional<T> take()
    {
        m_pending = false;
        std::lock_guard<std::mutex> lock(m_mutex);
        std::optional<T> out = std::move(m_value);
        m_value.reset();
        return out;
    }

    /// Empties the slot and the counters before a new run.
    void reset()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_value.reset();
        m_pending = false;
        m_skipped = 0;
        m_notified = 0;
    }

    /// Values replaced before they were taken, and notifications asked for.
    int skipped() const { return m_skipped.load(); }
    int notified() const { return m_notified.load(); }

private:
    std::mutex m_mutex;
    std::optional<T> m_value; ///< guarded by m_mutex
    std::atomic<bool> m_pending{false};
    std::atomic<int> m_skipped{0};
    std::atomic<int> m_notified{0};
};

} // namespace diffseg::app
