# Sourced by the model-making scripts: sets `diffseg` to the executable they use when it is not
# set already (--diffseg): the first of build/{release,ci,dev,pkg} under `root`, then the one on
# PATH; exits with a message naming `script` when there is none.
#   find_diffseg SCRIPT_NAME
find_diffseg() {
  local script=$1
  if [ -z "$diffseg" ]; then
    for preset in release ci dev pkg; do
      if [ -x "$root/build/$preset/app/cli/diffseg" ]; then
        diffseg="$root/build/$preset/app/cli/diffseg"
        break
      fi
    done
  fi
  if [ -z "$diffseg" ]; then
    diffseg=$(command -v diffseg || true)
  fi
  [ -n "$diffseg" ] && [ -x "$diffseg" ] || {
    echo "$script: no diffseg executable; build it (cmake --build build/dev --target diffseg) or pass --diffseg" >&2
    exit 1
  }
}
