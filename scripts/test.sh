#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, unit tests, and the tests against real Dovecot,
# Postfix, dnsmasq, PostgreSQL, Chromium, NSS, GnuTLS and Thunderbird on 127.0.0.0/8 (installed
# here when missing). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
mailtls_install_deps
mailtls_install_tools
mailtls_install_browser
mailtls_install_thunderbird

cargo fmt --all --check
cargo clippy --all-targets -- -D warnings
cargo test
