#!/usr/bin/env bash
# Install Vigil with its test dependencies into ./.venv (once) and run the test suite.
# Extra arguments go to pytest, e.g. `./test.sh -m slow` for the slow tests.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
source scripts/web_assets.sh
ensure_venv test
ensure_web_assets
ensure_chromium
exec python -m pytest "$@"
