#pragma once

#include <atomic>
#include <memory>

namespace diffseg::core {

/// A cancellation flag shared between the thread that asks for cancellation (GUI, signal handler)
/// and the worker that polls it between steps. Copies share the same flag. Lock-free, so
/// `cancel()` may be called from a signal handler.
class CancelToken
{
public:
    CancelToken()
        : m_flag(std::make_shared<std::atomic<bool>>(false))
    {}

    void cancel() const noexcept { m_flag->store(true, std::memory_order_relaxed); }
    bool isCancelled() const noexcept { return m_flag->load(std::memory_order_relaxed); }
    /// Throws Error(ErrorKind::Cancelled) naming `what` when cancellation was requested.
    void throwIfCancelled(const char* what = "operation") const;
    /// Clears the flag so that the token can be reused for the next run.
    void reset() const noexcept { m_flag->store(false, std::memory_order_relaxed); }

private:
    std::shared_ptr<std::atomic<bool>> m_flag;
};

} // namespace diffseg::core
