#include "OpenMpWait.h"

#include <cstdlib>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace diffseg::app {

void relaunchWithPassiveOpenMpWait(char** argv) noexcept
{
#if defined(__linux__)
    if (argv == nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) {
        return;
    }
    if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) {
        return;
    }
    ::execv("/proc/self/exe", argv);
    // Still here: the exec failed. The variable stays set for child processes, which is harmless.
#else
    (void)argv;
#endif
}

} // namespace diffseg::app
