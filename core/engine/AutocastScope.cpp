#include "AutocastScope.h"

#include <ATen/autocast_mode.h>

namespace diffseg::core::engine {

AutocastScope::AutocastScope(const c10::Device& device, std::optional<c10::ScalarType> dtype)
{
    if (!dtype) {
        return;
    }
    m_active = true;
    m_cuda = device.is_cuda();
    if (m_cuda) {
        m_wasEnabled = at::autocast::is_enabled();
        m_previousType = at::autocast::get_autocast_gpu_dtype();
        at::autocast::set_autocast_gpu_dtype(*dtype);
        at::autocast::set_enabled(true);
    } else {
        m_wasEnabled = at::autocast::is_cpu_enabled();
        m_previousType = at::autocast::get_autocast_cpu_dtype();
        at::autocast::set_autocast_cpu_dtype(*dtype);
        at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope()
{
    if (!m_active) {
        return;
    }
    if (at::autocast::decrement_nesting() == 0) {
        at::autocast::clear_cache();
    }
    if (m_cuda) {
        at::autocast::set_enabled(m_wasEnabled);
        at::autocast::set_autocast_gpu_dtype(m_previousType);
    } else {
        at::autocast::set_cpu_enabled(m_wasEnabled);
        at::autocast::set_autocast_cpu_dtype(m_previousType);
    }
}

} // namespace diffseg::core::engine
