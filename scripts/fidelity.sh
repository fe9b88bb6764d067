#!/usr/bin/env bash
# The fidelity matrix, all of it (tests/fidelity.rs): every generated server configuration run
# through mailtls, NSS (tstclnt), GnuTLS (gnutls-cli) and the real Thunderbird, in a release
# build. Installs what is missing; run as root. Ends with the line
#   fidelity: N cases; thunderbird=NSS A/N; gnome=GnuTLS B/N; undocumented disagreements U
# Every case's answers are kept in $MAILTLS_FIDELITY_DIR (default /tmp/mailtls-fidelity),
# results.jsonl. MAILTLS_FIDELITY_CASES='names/*' runs only the cases whose id matches.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
mailtls_install_deps
mailtls_install_thunderbird
cargo build --release --quiet --tests
status=0
cargo test --release --quiet --test fidelity 2>&1 | tee /tmp/mailtls-fidelity.out || status=$?
# The summary line last, whatever came before it.
grep '^fidelity: [0-9]* cases;' /tmp/mailtls-fidelity.out | tail -1
exit "$status"
