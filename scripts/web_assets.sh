# Shared by run.sh and test.sh: front-end packages from the npm registry (no build step).
# package.json pins exact versions and package-lock.json their checksums; `npm ci` installs
# exactly those into ./node_modules (ignored). HTMX is copied to src/vigil/web/static/vendor/
# (ignored too: the console serves it from there, and a wheel carries it); axe-core, a
# devDependency, stays in node_modules for the browser tests' accessibility check.
HTMX_SOURCE="node_modules/htmx.org/dist/htmx.min.js"

ensure_web_assets() {
    local target="src/vigil/web/static/vendor/htmx.min.js"
    # npm ci writes node_modules/.package-lock.json: older than the lock means a changed lock.
    if [ ! -f node_modules/.package-lock.json ] \
        || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "npm not found: the review console needs HTMX (Debian: apt-get install npm)" >&2
            return 1
        fi
        npm ci --silent --no-audit --no-fund >&2
    fi
    if ! cmp -s "$HTMX_SOURCE" "$target"; then
        mkdir -p "$(dirname "$target")"
        cp "$HTMX_SOURCE" "$target"
    fi
}

# Debian's Chromium for the browser tests (Playwright drives it; its own download is not used).
ensure_chromium() {
    if [ -x /usr/bin/chromium ]; then
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
        return 1
    fi
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
}
