#!/usr/bin/env bash
# Install what the remote-workflow tests (tests/ops) drive: an OpenSSH server and client, and rsync.
# Never fails the build: where they cannot be installed, those tests skip and say why.
set -uo pipefail

missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
{ command -v ssh && command -v ssh-keygen; } >/dev/null 2>&1 || missing+=(openssh-client)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "ops-deps: sshd, ssh and rsync already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ops-deps: no apt-get here; tests/ops will skip (missing: ${missing[*]})"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ops-deps: not root, cannot apt-get install; tests/ops will skip (missing: ${missing[*]})"
    exit 0
fi

echo "ops-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >/dev/null 2>&1 &&
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    echo "ops-deps: installed ${missing[*]}"
else
    echo "ops-deps: apt-get install ${missing[*]} failed; tests/ops will skip"
fi
exit 0
