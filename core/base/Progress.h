#pragma once

#include <functional>
#include <string>

namespace diffseg::core {

/// One progress report of a long operation. `fraction` is in [0,1] (or negative when unknown).
struct ProgressInfo
{
    double fraction = -1.0;
    std::string stage;   ///< short name of the current stage, e.g. "sampling"
    std::string message; ///< optional human-readable detail
};

/// Called by long operations on the thread that runs them; it must be cheap and thread-safe on the
/// receiver's side (the GUI forwards it by queued signal). May be empty.
using ProgressCallback = std::function<void(const ProgressInfo&)>;

inline void reportProgress(const ProgressCallback& cb, double fraction, const std::string& stage,
                           const std::string& message = {})
{
    if (cb) {
        cb(ProgressInfo{fraction, stage, message});
    }
}

} // namespace diffseg::core
