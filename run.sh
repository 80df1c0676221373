#!/usr/bin/env bash
# Install Vigil into ./.venv (once) and run it. With no arguments it runs the main job on
# the embedded defaults; any arguments are passed to the `vigil` command instead.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv
if [ "$#" -eq 0 ]; then
    corpus="../shared/corpus/images"
    if [ ! -d "$corpus" ]; then
        echo "No media folder given and no benign corpus at $corpus; try ./run.sh hash FOLDER" >&2
        exec vigil --help
    fi
    exec vigil hash "$corpus" --recursive --format table
fi
exec vigil "$@"
