#!/usr/bin/env bash
# Regenerate constraints.txt: the exact version of every package Vigil and all its extras
# install, resolved afresh from pyproject.toml's ranges in a throw-away virtual environment.
# run.sh and test.sh install with `-c constraints.txt`, so a clone installs what was tested.
# Run it after changing a dependency, then run ./test.sh and commit both files together.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"${PYTHON:-python3}" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --upgrade pip
"$scratch/venv/bin/python" -m pip install --quiet ".[test,bench,onnx,s3,ray]"
{
    echo "# Exact versions the test suite passed with; regenerate with scripts/lock.sh."
    "$scratch/venv/bin/python" -m pip freeze --exclude vigil
} > constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) packages pinned" >&2
