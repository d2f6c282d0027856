#pragma once

// LibTorch's autocast for one device, switched on for a scope (what `with torch.autocast(...)`
// does in Python). Engine-internal header (LibTorch types).

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>

namespace diffseg::core::engine {

/// While alive, ops on `device`'s type run in `dtype` where autocast lowers them (convolutions,
/// matrix products) and in float32 where it keeps them; nothing happens when `dtype` is empty.
/// Restores the previous autocast state on destruction and clears the cast cache when the
/// outermost scope ends. Thread-local, as autocast itself: the scope affects only its thread.
class AutocastScope
{
public:
    AutocastScope(const c10::Device& device, std::optional<c10::ScalarType> dtype);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool m_active = false;
    bool m_cuda = false;
    bool m_wasEnabled = false;
    c10::ScalarType m_previousType = c10::ScalarType::Float;
};

} // namespace diffseg::core::engine
