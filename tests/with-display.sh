#!/usr/bin/env bash
# Runs a GUI test on a display of its own: a private Xvfb with a 24-bit screen (GLX through Mesa
# llvmpipe), so that tests running side by side (ctest -j) never take the focus from each
# other's windows (a window waiting to be activated timed out when another test's window was
# activated on a shared display). DIFFSEG_USE_DISPLAY=1 runs on the current display instead
# (to watch a test), as does a machine without xvfb-run. Used by CTest for the GUI tests.
if [ "${DIFFSEG_USE_DISPLAY:-0}" != 1 ] && command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s '-screen 0 1280x1024x24 -nolisten tcp' "$@"
fi
if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
  exec "$@"
fi
echo "with-display: no display and no xvfb-run (install xvfb)" >&2
exit 1
