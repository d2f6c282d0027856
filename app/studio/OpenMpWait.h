#pragma once

namespace diffseg::app {

/// Makes the studio's OpenMP threads (LibTorch's intra-op pool) sleep while they wait instead of
/// spinning. Spinning threads lose badly whenever anything else wants a core: on a 2-core CPU
/// with another process busy (even at nice 19), a click took 10.1 s from mouse to refined outline
/// with spinning threads and 1.2 s with sleeping ones; on an idle machine spinning is faster,
/// 0.87 s against 1.08 s (tests/bench/interactive/bench_studio_clicks; README, "Interactive
/// segmentation, measured").
///
/// libgomp reads OMP_WAIT_POLICY once, as it is loaded, before main(). So when the variable is
/// unset this sets it to PASSIVE and replaces the process with a fresh run of the same program
/// and arguments (Linux: /proc/self/exe; the process id stays). It returns when the variable was
/// set already (a user's own choice, ACTIVE included, is kept), elsewhere than on Linux, or when
/// the exec fails (the run then keeps the spinning default). Call it first in main(), before any
/// thread starts. Errors: none reported; it never throws.
void relaunchWithPassiveOpenMpWait(char** argv) noexcept;

} // namespace diffseg::app
