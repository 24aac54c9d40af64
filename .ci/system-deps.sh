#!/usr/bin/env bash
# Install the system programs some tests drive, with Debian's apt-get:
#   tests/ops  - an OpenSSH server and client, and rsync (the remote-workflow scripts)
#   tests/viz  - headless Chromium (the replay viewer)
# Never fails the build: where they cannot be installed, those tests skip and say why.
set -uo pipefail

missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
{ command -v ssh && command -v ssh-keygen; } >/dev/null 2>&1 || missing+=(openssh-client)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "system-deps: sshd, ssh, rsync and chromium already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: cannot apt-get install here (no apt-get or not root);" \
        "tests needing ${missing[*]} will skip"
    exit 0
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >/dev/null 2>&1 &&
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    echo "system-deps: installed ${missing[*]}"
else
    echo "system-deps: apt-get install ${missing[*]} failed; the tests needing them will skip"
fi
exit 0
