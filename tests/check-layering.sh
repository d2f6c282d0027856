#!/usr/bin/env bash
# Fails when the layers leak into each other:
#  1. LibTorch (<torch/...>, <ATen/...>, <c10/...>) reached, directly or through the project's own
#     `#include "..."` graph, from a header of app/, core/ or widgets/ outside core/engine/ and
#     core/inference/, from any source of widgets/ or app/studio/, or from a source of the
#     LibTorch-free configuration target (diffseg_core_config in core/engine/CMakeLists.txt).
#     Debian installs ATen and c10 straight into /usr/include, so an include folder check alone
#     would miss them. Tests may use LibTorch and are not checked.
#  2. Qt or VTK reached from any file of core/.
#  3. With a build folder as argument that has a compile_commands.json: a translation unit of
#     widgets/ or app/studio/ (moc output included) compiled with LibTorch's include folders.
# Usage: tests/check-layering.sh [build-folder]
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 not found: layering not checked"
  exit 0
fi
if git rev-parse --git-dir >/dev/null 2>&1; then
  files=$(git ls-files --cached --others --exclude-standard -- app core widgets)
else
  files=$(find app core widgets -type f)
fi
# The program comes on stdin, so the file list goes through the environment.
DIFFSEG_LAYERING_FILES=$files exec python3 - "$root" "${1:-}" <<'EOF'
import json
import os
import re
import sys

root, build = sys.argv[1], sys.argv[2]
files = sorted(
    {f for f in os.environ["DIFFSEG_LAYERING_FILES"].split() if f.endswith((".h", ".cpp"))}
)
include_line = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
# Where `#include "a/b.h"` is looked up after the including file's folder (the targets' folders).
search_roots = ["core", "widgets", "app/studio", "app/cli"]


def is_torch(name):
    return name.startswith(("torch/", "ATen/", "c10/"))


def is_qt_or_vtk(name):
    base = os.path.basename(name)
    return re.match(r"Q[A-Za-z0-9_]", name) is not None or base.startswith("vtk")


includes = {}


def direct_includes(path):
    """(project files, other names) that `path` includes."""
    if path not in includes:
        try:
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            text = ""
        local, other = [], []
        for kind, name in include_line.findall(text):
            found = None
            if kind == '"':
                for folder in [os.path.dirname(path)] + search_roots:
                    candidate = os.path.normpath(os.path.join(folder, name))
                    if os.path.isfile(os.path.join(root, candidate)):
                        found = candidate
                        break
            if found:
                local.append(found)
            else:
                other.append(name)
        includes[path] = (local, other)
    return includes[path]


def first_violation(start, bad):
    """The include chain from `start` to a name `bad` accepts, or None (breadth first)."""
    parent = {start: None}
    queue = [start]
    while queue:
        path = queue.pop(0)
        local, other = direct_includes(path)
        for name in other:
            if bad(name):
                chain = [f"<{name}>"]
                node = path
                while node is not None:
                    chain.append(node)
                    node = parent[node]
                return " <- ".join(chain)
        for nxt in local:
            if nxt not in parent:
                parent[nxt] = path
                queue.append(nxt)
    return None


def config_sources():
    """The sources of diffseg_core_config, from its add_library() in core/engine/CMakeLists.txt."""
    with open(os.path.join(root, "core/engine/CMakeLists.txt"), encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"add_library\(diffseg_core_config\b([^)]*)\)", text)
    if not block:
        return None
    return [os.path.join("core/engine", s) for s in block.group(1).split() if s.endswith(".cpp")]


problems = []
torch_free = []
for f in files:
    product_header = f.endswith(".h") and not f.startswith(("core/engine/", "core/inference/"))
    gui_source = f.startswith(("widgets/", "app/studio/"))
    if product_header or gui_source:
        torch_free.append(f)
sources = config_sources()
if sources is None:
    problems.append("core/engine/CMakeLists.txt: no add_library(diffseg_core_config ...) found")
else:
    torch_free += sources
for f in sorted(set(torch_free)):
    chain = first_violation(f, is_torch)
    if chain:
        problems.append(f"LibTorch reached: {chain}")
for f in files:
    if f.startswith("core/"):
        chain = first_violation(f, is_qt_or_vtk)
        if chain:
            problems.append(f"Qt/VTK in core/: {chain}")

checked_units = 0
if not build:
    print("no build folder given: compile lines not checked")
else:
    database = os.path.join(build, "compile_commands.json")
    if os.path.isfile(database):
        with open(database, encoding="utf-8") as f:
            entries = json.load(f)
        gui_folders = [
            os.path.join(base, part) + os.sep
            for base in (root, os.path.realpath(build))
            for part in ("widgets", os.path.join("app", "studio"))
        ]
        torch_folder = re.compile(r"/torch/csrc/api/include|/include/torch(?:/|\s|$)")
        for entry in entries:
            unit = os.path.realpath(os.path.join(entry.get("directory", ""), entry["file"]))
            if not any(unit.startswith(folder) for folder in gui_folders):
                continue
            checked_units += 1
            command = entry.get("command") or " ".join(entry.get("arguments", []))
            if torch_folder.search(command):
                problems.append(f"LibTorch include folder on the compile line of {unit}")
    else:
        print(f"{database} not found: compile lines not checked")

if problems:
    print("layering violations:")
    print("\n".join(problems))
    sys.exit(1)
print(
    f"{len(set(torch_free))} files LibTorch-free, {sum(f.startswith('core/') for f in files)} "
    f"core files without Qt/VTK, {checked_units} GUI compile lines without LibTorch folders"
)
EOF
