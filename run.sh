#!/usr/bin/env bash
# Install Vigil into ./.venv (once) and run it. With no arguments it runs the main job on
# the embedded defaults; any arguments are passed to the `vigil` command instead.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
source scripts/web_assets.sh
ensure_venv
ensure_web_assets
if [ "$#" -eq 0 ]; then
    exec vigil serve    # the screening service on http://127.0.0.1:8000
fi
exec vigil "$@"
