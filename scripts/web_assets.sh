# Shared by run.sh and test.sh: front-end packages from the npm registry (no build step).
# HTMX is installed, not copied into the repository: src/vigil/web/static/vendor/ is ignored.
HTMX_VERSION="~2.0.11"

ensure_web_assets() {
    local target="src/vigil/web/static/vendor/htmx.min.js"
    if [ -f "$target" ]; then
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm not found: the review console needs HTMX (Debian: apt-get install npm)" >&2
        return 1
    fi
    npm install --silent --no-audit --no-fund --prefix .web-assets "htmx.org@$HTMX_VERSION" >&2
    mkdir -p "$(dirname "$target")"
    cp .web-assets/node_modules/htmx.org/dist/htmx.min.js "$target"
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
