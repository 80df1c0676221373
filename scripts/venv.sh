# Shared by run.sh and test.sh: create ./.venv and install the project into it when
# pyproject.toml or constraints.txt changed since the last install. Every package comes at
# the exact version in constraints.txt (what the suite passed with; scripts/lock.sh).
ensure_venv() {
    local extras="${1:-}"
    local python="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        "$python" -m venv .venv
    fi
    # shellcheck disable=SC1091
    source .venv/bin/activate
    local stamp=".venv/.installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
        python -m pip install --quiet --upgrade pip >&2
        python -m pip install --quiet -c constraints.txt -e ".${extras:+[$extras]}" >&2
        touch "$stamp"
    fi
}
