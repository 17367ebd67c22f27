#!/bin/sh
# Makes sure Debian's chromium is installed for the browser tests, or says loudly why not.
# The tests prefer Debian's chromium-headless-shell (the same engine without the desktop browser's
# user interface: about a fifth less CPU for the same pages); plain chromium serves when the shell
# cannot be had. The browser tests skip (locally) or fail (CI=true) when neither can be had.
have() {
    for path in "$@"; do [ -n "$path" ] && [ -x "$path" ] && return 0; done
    return 1
}
have "${CHROMIUM:-}" /usr/bin/chromium-headless-shell && exit 0
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" != none ]; then
        echo "Installing Debian's chromium-headless-shell for the browser tests"
        $SUDO apt-get install -y -q chromium-headless-shell >/dev/null 2>&1 || true
        have /usr/bin/chromium-headless-shell && exit 0
        # Refreshing the package lists can take long offline: only when there is no browser at all.
        if ! have /usr/bin/chromium /usr/bin/chromium-browser; then
            { $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium-headless-shell; } >/dev/null 2>&1 || true
            have /usr/bin/chromium-headless-shell && exit 0
        fi
    fi
fi
if have /usr/bin/chromium /usr/bin/chromium-browser; then
    echo "!! No chromium-headless-shell: the browser tests use chromium (slower)." >&2
    exit 0
fi
echo "!! No chromium found and none could be installed: the browser tests will be skipped" >&2
echo "!! (install Debian's 'chromium-headless-shell' or 'chromium' package or set CHROMIUM=/path/to/chrome)." >&2
exit 0
