#pragma once

namespace diffseg::app {

/// Makes the studio's OpenMP threads (LibTorch's intra-op pool) sleep while they wait instead of
/// spinning. Spinning threads lose badly whenever anything else wants a core: with any other
/// process busy on this 2-core CPU (even at nice 19), a click's refinement took about 10 s
/// instead of 1.3 s (tests/bench/interactive/bench_studio_clicks); with nothing else running,
/// passive waiting costs about a fifth of that time (README, "Guided refinement").
///
/// libgomp reads OMP_WAIT_POLICY once, as it is loaded, before main(). So when the variable is
/// unset this sets it to PASSIVE and replaces the process with a fresh run of the same program
/// and arguments (Linux: /proc/self/exe; the process id stays). It returns when the variable was
/// set already (a user's own choice, ACTIVE included, is kept), elsewhere than on Linux, or when
/// the exec fails (the run then keeps the spinning default). Call it first in main(), before any
/// thread starts. Errors: none reported; it never throws.
void relaunchWithPassiveOpenMpWait(char** argv) noexcept;

} // namespace diffseg::app
