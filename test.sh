#!/usr/bin/env bash
# Install Vigil with its test dependencies into ./.venv (once) and run the test suite.
# Extra arguments go to pytest, e.g. `./test.sh -m slow` for the slow tests.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv test
exec python -m pytest "$@"
