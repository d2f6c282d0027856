#!/usr/bin/env bash
# Runs a GUI test with a display: the current one if it answers, else a private Xvfb with a
# 24-bit screen (GLX through Mesa llvmpipe). Used by CTest for the widgets and render tests.
if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
  exec "$@"
fi
if command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s '-screen 0 1280x1024x24 -nolisten tcp' "$@"
fi
echo "with-display: no display and no xvfb-run (install xvfb)" >&2
exit 1
