#!/bin/sh
# Makes sure Debian's chromium is installed for the browser tests, or says loudly why not.
# The browser tests skip (locally) or fail (CI=true) when no chromium can be had.
for path in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -n "$path" ] && [ -x "$path" ] && exit 0
done
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" != none ]; then
        echo "Installing Debian's chromium for the browser tests"
        $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
            || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null 2>&1; } \
            || true
        [ -x /usr/bin/chromium ] && exit 0
    fi
fi
echo "!! No chromium found and none could be installed: the browser tests will be skipped" >&2
echo "!! (install Debian's 'chromium' package or set CHROMIUM=/path/to/chrome)." >&2
exit 0
