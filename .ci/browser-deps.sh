#!/usr/bin/env bash
# Install headless Chromium for the replay-viewer test (tests/viz): Debian's `chromium` package.
# Never fails the build: where it cannot be installed, the browser tests skip and say why.
set -uo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "browser-deps: chromium already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-deps: no apt-get here; the headless-browser tests will skip"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "browser-deps: not root, cannot apt-get install chromium; the headless-browser tests will skip"
    exit 0
fi

echo "browser-deps: installing chromium"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >/dev/null 2>&1 &&
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; then
    echo "browser-deps: installed chromium"
else
    echo "browser-deps: apt-get install chromium failed; the headless-browser tests will skip"
fi
exit 0
