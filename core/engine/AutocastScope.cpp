#include "AutocastScope.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace diffseg::core::engine {

namespace {

// LibTorch 2.4 replaced the per-kind calls by per-device ones (the old ones are deprecated, and
// warnings are errors in our builds).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool isEnabled(bool cuda)
{
    return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
}
void setEnabled(bool cuda, bool on)
{
    at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on);
}
c10::ScalarType dtypeOf(bool cuda)
{
    return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
}
void setDtype(bool cuda, c10::ScalarType dtype)
{
    at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, dtype);
}
#else
bool isEnabled(bool cuda)
{
    return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void setEnabled(bool cuda, bool on)
{
    cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
}
c10::ScalarType dtypeOf(bool cuda)
{
    return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void setDtype(bool cuda, c10::ScalarType dtype)
{
    cuda ? at::autocast::set_autocast_gpu_dtype(dtype)
         : at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

} // namespace

AutocastScope::AutocastScope(const c10::Device& device, std::optional<c10::ScalarType> dtype)
{
    if (!dtype) {
        return;
    }
    m_active = true;
    m_cuda = device.is_cuda();
    m_wasEnabled = isEnabled(m_cuda);
    m_previousType = dtypeOf(m_cuda);
    setDtype(m_cuda, *dtype);
    setEnabled(m_cuda, true);
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
    setEnabled(m_cuda, m_wasEnabled);
    setDtype(m_cuda, m_previousType);
}

} // namespace diffseg::core::engine
