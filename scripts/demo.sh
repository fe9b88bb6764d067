#!/usr/bin/env bash
# Builds mailtls, starts the local test servers (real Dovecot, Postfix and dnsmasq on 127.0.0.x,
# the same lab the tests use) and checks a misconfigured one: the user typed mail.customer.test,
# but the server's certificate is for the hosting machine, luna.hostingco.test. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
mailtls_install_deps

cargo build --release --quiet --bin mailtls --example lab
lab_dir="${MAILTLS_LAB_DIR:-/tmp/mailtls-lab}/demo"
target/release/examples/lab start "$lab_dir" >/dev/null
trap 'target/release/examples/lab stop "$lab_dir"' EXIT

host="${1:-mail.customer.test}"
echo "\$ mailtls check $host --dns 127.0.0.53 --ca-file $lab_dir/certs/ca.pem"
echo
status=0
target/release/mailtls check "$host" --dns 127.0.0.53 --ca-file "$lab_dir/certs/ca.pem" || status=$?
echo
echo "(exit status $status: 0 all good, 1 warnings, 2 problems, 3 could not check)"
echo "Other lab servers to try: scripts/demo.sh mail.good.test | 127.0.0.11 | mail.expired.test |"
echo "  mail.selfsigned.test | mail.unknownca.test | mail.nochain.test | mail.split.test | mail.sni.test | mail.notls.test"
