#!/usr/bin/env bash
# Install Vigil with its test dependencies into ./.venv (once), check types (mypy) and run the
# test suite.
# Extra arguments go to pytest, e.g. `./test.sh -m slow` for the slow tests only.
# `./test.sh --all` (first argument) runs every test, the slow ones too: that is what CI runs.
# The tests run in parallel, one worker per core (pytest-xdist); VIGIL_TEST_WORKERS=N sets
# the number of workers, 0 runs them in this process.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
source scripts/web_assets.sh
ensure_venv test
ensure_web_assets
ensure_chromium
# Temporary files (each test's databases, index snapshots, evidence) on a RAM file system where
# there is one: the tests fsync them often, and nothing needs them to survive the run.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
# Lint and formatting first ([tool.ruff] in pyproject.toml; the whole tree is formatted, so a
# diff here is a file someone forgot to format), then types (the [tool.mypy] configuration):
# either fails the run before any test starts. .mypy_cache keeps a re-run to a few seconds.
python -m ruff check --quiet src tests benchmarks scripts
python -m ruff format --check --quiet src tests benchmarks scripts
python -m mypy
selection=()
if [ "${1:-}" = "--all" ]; then
    shift
    selection=(-m "")  # overrides pyproject's -m 'not slow'
fi
# worksteal: an idle worker takes tests queued on a busy one, so a run of slow tests at the
# end of one worker's share does not leave the other core idle.
exec python -m pytest -n "${VIGIL_TEST_WORKERS:-auto}" --dist worksteal "${selection[@]}" "$@"
