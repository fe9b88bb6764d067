#!/usr/bin/env bash
# Builds mailtls, starts the local test servers (real Dovecot, Postfix and dnsmasq on 127.0.0.x,
# the same lab the tests use) and checks a misconfigured one: the user typed mail.customer.test,
# but the server's certificate is for the hosting machine, luna.hostingco.test. Run as root.
#
# The build runs on the host; the rest of the script runs again in a network of its own
# (`lab netns`, tests/lab/netns.rs): the lab, the check and `--serve` see only the lab, and
# nothing is left on the host's lo. --serve relays the host's 127.0.0.1:8080 to the page.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MAILTLS_NETNS:-}" ]; then
    . scripts/deps.sh
    mailtls_install_deps
    cargo build --release --quiet --bin mailtls --example lab
    forward=()
    [ "${1:-}" = "--serve" ] && forward=(--forward 127.0.0.1:8080=127.0.0.1:8080)
    exec target/release/examples/lab netns "${forward[@]}" -- bash "$0" "$@"
fi

lab_dir="$MAILTLS_LAB_DIR/demo"
target/release/examples/lab start "$lab_dir" >/dev/null
trap 'target/release/examples/lab stop "$lab_dir"' EXIT

if [ "${1:-}" = "--serve" ]; then
    # The web page, API and provisioning endpoints on the same lab, until Ctrl-C.
    printf '[pools]\nhosting = ["mail.customer.test", "luna.hostingco.test"]\n\n[domains]\n"customer.test" = "hosting"\n' \
        > "$lab_dir/serve.toml"
    echo "Open http://127.0.0.1:8080/check?target=jane@disc-bad.test (the hosting mismatch), or"
    echo "http://127.0.0.1:8080/mail/config-v1.1.xml?emailaddress=jane@customer.test (verified autoconfig). Ctrl-C stops."
    target/release/mailtls serve --listen 127.0.0.1:8080 --db "$lab_dir/serve.sqlite" \
        --config "$lab_dir/serve.toml" --dns 127.0.0.53 --ca-file "$lab_dir/certs/ca.pem" --allow-private || true
    exit 0
fi

host="${1:-mail.customer.test}"
echo "\$ mailtls check $host --dns 127.0.0.53 --ca-file $lab_dir/certs/ca.pem"
echo
status=0
target/release/mailtls check "$host" --dns 127.0.0.53 --ca-file "$lab_dir/certs/ca.pem" || status=$?
echo
echo "(exit status $status: 0 all good, 1 warnings, 2 problems, 3 could not check)"
echo "Other lab servers to try: scripts/demo.sh mail.good.test | 127.0.0.11 | mail.expired.test |"
echo "  mail.selfsigned.test | mail.unknownca.test | mail.nochain.test | mail.split.test | mail.sni.test | mail.notls.test |"
echo "  jane@disc-web.test (Outlook's Autodiscover warning) | jane@disc-good.test (discovery that works)"
echo "From a dialog's words: target/release/mailtls explain \"The target principal name is incorrect\""
echo "The web page and the provisioning endpoints on this lab: scripts/demo.sh --serve"
