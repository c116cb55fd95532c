#!/usr/bin/env bash
# The clerk dashboard's browser tests drive Debian's Chromium; install it once if it is missing.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

# fonts-liberation: so pages (and any screenshot) render their text on a bare image.
install=(apt-get install -y --no-install-recommends chromium fonts-liberation)
if [ "$(id -u)" -eq 0 ]; then
    echo "Installing Chromium for the browser tests (apt-get)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${install[@]}"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "Installing Chromium for the browser tests (sudo apt-get)..."
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive "${install[@]}"
else
    echo "The browser tests need $CHROMIUM: run 'sudo apt-get install chromium' (Debian/Ubuntu), then 'make test' again." >&2
    exit 1
fi

[ -x "$CHROMIUM" ] || { echo "Chromium was installed but $CHROMIUM is missing." >&2; exit 1; }
