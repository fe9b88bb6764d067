#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, unit tests, and the tests against real Dovecot,
# Postfix, dnsmasq, BIND, Unbound, postfix-mta-sts-resolver, PostgreSQL, Chromium, NSS, GnuTLS
# and Thunderbird on 127.0.0.0/8 (installed here when missing). Run as root.
#
# The server tests run in a network of their own (tests/lab/netns.rs), so two runs of this
# script side by side both pass. This script holds that to account: while the tests run, it
# listens on the host at two addresses the lab uses (Dovecot's 127.0.0.10:993, PostgreSQL's
# 127.0.0.1:55432), as a mail server of the host would, and afterwards the host's lo and its
# /etc/hosts, /etc/resolv.conf and /etc/postfix/main.cf must be as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
mailtls_install_deps
mailtls_install_tools
mailtls_install_browser
mailtls_install_thunderbird

cargo fmt --all --check
cargo clippy --all-targets -- -D warnings

host_state() {
    ip -o addr show dev lo | awk '{print $4}'
    sha256sum /etc/hosts /etc/resolv.conf /etc/postfix/main.cf 2>&1
}
before="$(host_state)"
python3 - <<'PY' &
import socket, sys, time
held = []
for address in [("127.0.0.10", 993), ("127.0.0.1", 55432)]:
    listener = socket.socket()
    # As a server does (a connection of an earlier run in TIME_WAIT must not stop it).
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen()
        held.append(listener)
    except OSError as error:
        # Something of the host (another run of this script) has it already: as good.
        print(f"test.sh: the host's {address[0]}:{address[1]} is taken already ({error})",
              file=sys.stderr)
time.sleep(24 * 3600)
PY
squatter=$!
trap 'kill "$squatter" 2>/dev/null' EXIT

cargo test

after="$(host_state)"
if [ "$before" != "$after" ]; then
    echo "test.sh: the tests changed the host's lo or /etc files:" >&2
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2 || true
    exit 1
fi
