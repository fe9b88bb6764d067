#!/usr/bin/env bash
# The fidelity matrix, all of it (tests/fidelity.rs): every generated server configuration run
# through mailtls, NSS (tstclnt), GnuTLS (gnutls-cli) and the real Thunderbird, in a release
# build. Installs what is missing; run as root. Ends with the line
#   fidelity: N cases; thunderbird=NSS A/N; gnome=GnuTLS B/N; undocumented disagreements U
# Every case's answers are kept in results.jsonl in $MAILTLS_FIDELITY_DIR (default: a new
# directory per run, named at the end). The test runs in a network of its own
# (tests/lab/netns.rs), so two runs side by side do not meet. MAILTLS_FIDELITY_CASES='names/*'
# runs only the cases whose id matches.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
mailtls_install_deps
mailtls_install_thunderbird
cargo build --release --quiet --tests
MAILTLS_FIDELITY_DIR="${MAILTLS_FIDELITY_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mailtls-fidelity.XXXXXX")}"
export MAILTLS_FIDELITY_DIR
out="$MAILTLS_FIDELITY_DIR.out"
status=0
cargo test --release --quiet --test fidelity 2>&1 | tee "$out" || status=$?
echo "fidelity: every case's answers are in $MAILTLS_FIDELITY_DIR/results.jsonl"
# The summary line last, whatever came before it.
grep '^fidelity: [0-9]* cases;' "$out" | tail -1
rm -f "$out"
exit "$status"
