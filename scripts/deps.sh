#!/usr/bin/env bash
# Installs the real servers the lab runs (Dovecot, Postfix, dnsmasq, BIND, Unbound) and the tools
# it calls, when missing. Sourced by test.sh, demo.sh and bench.sh. Needs root, as does the lab
# itself (ports below 1024; network, mount and pid namespaces of its own, tests/lab/netns.rs).
set -euo pipefail

mailtls_install_deps() {
    if [ "$(id -u)" != 0 ]; then
        echo "mailtls: the local test servers need root (ports 25/143/..., namespaces); run as root" >&2
        exit 1
    fi
    local missing=()
    command -v dovecot >/dev/null || missing+=(dovecot-imapd)
    [ -x /usr/lib/dovecot/pop3 ] || missing+=(dovecot-pop3d)
    command -v postfix >/dev/null || missing+=(postfix)
    command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
    # The delivery lab (tests/delivery.rs): BIND serves DNSSEC-signed zones (pre-signed with
    # bind9-utils' dnssec-signzone), Unbound validates them for the real senders.
    command -v named >/dev/null || missing+=(bind9)
    command -v dnssec-signzone >/dev/null || missing+=(bind9-utils)
    command -v unbound >/dev/null || missing+=(unbound)
    command -v ip >/dev/null || missing+=(iproute2)
    # script, and the namespaces of tests/lab/netns.rs: setpriv, unshare, nsenter.
    local tool
    for tool in script setpriv unshare nsenter; do
        command -v "$tool" >/dev/null || { missing+=(util-linux); break; }
    done
    command -v openssl >/dev/null || missing+=(openssl)
    command -v cc >/dev/null || missing+=(gcc)
    command -v python3 >/dev/null || missing+=(python3)
    # Real client libraries as oracles: NSS (Thunderbird) and GnuTLS (Evolution, Geary).
    command -v tstclnt >/dev/null || missing+=(libnss3-tools)
    command -v gnutls-cli >/dev/null || missing+=(gnutls-bin)
    # The scan store's second backend: a private server on loopback in the tests.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v runuser >/dev/null || missing+=(util-linux)
    # Python virtual environments, for the tools the tests and benchmarks take from PyPI.
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "mailtls: installing ${missing[*]}" >&2
        # Keep the distribution's own Dovecot/Postfix from starting on the host's 0.0.0.0 during
        # the install: the lab runs its own, in a network of its own.
        local created_policy=no
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            created_policy=yes
        fi
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
        [ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
    fi
    # A mail server of the host (even on 0.0.0.0:143) is no obstacle: the lab runs in a network
    # of its own.
}

# Python tools the tests use, in target/tools/ (PyPI, pinned): kubernetes-validate checks
# deploy/kubernetes/ against the Kubernetes API schemas; schemathesis (command `st`) fuzzes the
# HTTP API of `mailtls serve` from its OpenAPI document; postfix-mta-sts-resolver is the delivery
# lab's MTA-STS policy source. Installs only what is missing.
mailtls_install_tools() {
    local venv=target/tools/venv
    local want=()
    [ -x "$venv/bin/kubernetes-validate" ] || want+=(kubernetes-validate==1.37.0)
    [ -x "$venv/bin/st" ] || want+=(schemathesis==4.32.5)
    if [ "${#want[@]}" -gt 0 ]; then
        echo "mailtls: installing ${want[*]} into $venv" >&2
        # A venv whose Python is gone (moved tree, other machine) is rebuilt; a working one is kept.
        if ! "$venv/bin/python" -c '' 2>/dev/null; then
            rm -rf "$venv"
            python3 -m venv "$venv"
        fi
        "$venv/bin/pip" install -q --disable-pip-version-check "${want[@]}"
    fi
    # postfix-mta-sts-resolver, the MTA-STS policy source of the delivery lab's second sender
    # (tests/delivery.rs), in a venv of its own (its aiohttp/aiodns stay apart from the tools
    # above), pinned with its dependencies; reinstalled when the pins change.
    local sts=target/tools/mta-sts pins=tests/lab/delivery/mta-sts-requirements.txt
    if [ ! -x "$sts/bin/mta-sts-daemon" ] || ! "$sts/bin/python" -c '' 2>/dev/null \
        || ! cmp -s "$pins" "$sts/requirements.txt"; then
        echo "mailtls: installing postfix-mta-sts-resolver ($pins) into $sts" >&2
        rm -rf "$sts"
        python3 -m venv "$sts"
        "$sts/bin/pip" install -q --disable-pip-version-check -r "$pins"
        cp "$pins" "$sts/requirements.txt"
    fi
}

# The browser tests of `mailtls serve` (tests/browser/serve.mjs): Debian's Chromium, driven by
# playwright-core from the npm registry (pinned in tests/browser/package-lock.json) into
# tests/browser/node_modules. Never `npx playwright install`: it downloads a browser build.
mailtls_install_browser() {
    if [ ! -x /usr/bin/chromium ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "mailtls: Chromium is missing and installing it needs root (apt-get install chromium)" >&2
            exit 1
        fi
        echo "mailtls: installing chromium" >&2
        # Without recommends: these would bring avahi-daemon, systemd, upower and CUPS helpers,
        # daemons that start on install. Nothing installed here starts a service.
        # Output only on failure (apt-get's debconf notes on stderr are noise otherwise).
        local out
        if ! out=$(apt-get update -q 2>&1 && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends chromium fonts-liberation 2>&1); then
            printf '%s\n' "$out" >&2
            echo "mailtls: installing chromium failed" >&2
            exit 1
        fi
    fi
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        # Debian's Node.js (18 on bookworm) runs playwright-core too.
        echo "mailtls: installing nodejs and npm" >&2
        local out
        if [ "$(id -u)" != 0 ] || ! out=$(apt-get update -q 2>&1 && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends nodejs npm 2>&1); then
            printf '%s\n' "${out:-}" >&2
            echo "mailtls: the browser tests need Node.js and npm; installing them failed" >&2
            exit 1
        fi
    fi
    local dir=tests/browser want have
    want=$(sed -n 's/^ *"playwright-core": *"\([^"]*\)".*/\1/p' "$dir/package.json")
    have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
        "$dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
    if [ -z "$have" ] || [ "$have" != "$want" ]; then
        echo "mailtls: installing playwright-core $want into $dir/node_modules" >&2
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
    fi
}

# The real Thunderbird, the tests' Thunderbird oracle (tests/thunderbird/oracle.py), at the
# version pinned in tests/thunderbird/VERSION: the oracle drives internal APIs over Marionette,
# so another version must not slip in unnoticed. Installing it fails loudly, with the reason,
# when that exact version is gone from the archive (a security update replaced it): then update
# the VERSION file, run scripts/fidelity.sh and look at what changed.
mailtls_install_thunderbird() {
    local version_file=tests/thunderbird/VERSION want_upstream want_package have
    want_upstream=$(awk '{print $1}' "$version_file")
    want_package=$(awk '{print $2}' "$version_file")
    have=$(dpkg-query -W -f='${Version}' thunderbird 2>/dev/null || true)
    if [ "$have" = "$want_package" ]; then
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "mailtls: Thunderbird $want_upstream is missing and installing it needs root" >&2
        exit 1
    fi
    echo "mailtls: installing thunderbird $want_package (found: ${have:-none})" >&2
    local created_policy=no out
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=yes
    fi
    if ! out=$(apt-get update -q 2>&1 && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends --allow-downgrades \
        "thunderbird=$want_package" 2>&1); then
        [ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
        printf '%s\n' "$out" | tail -5 >&2
        echo "mailtls: Thunderbird $want_package (pinned in $version_file) cannot be installed;" >&2
        echo "         apt-cache policy thunderbird shows what the archive has now" >&2
        exit 1
    fi
    [ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
    have=$(/usr/lib/thunderbird/thunderbird --version 2>/dev/null | awk '{print $NF}')
    if [ "$have" != "$want_upstream" ]; then
        echo "mailtls: thunderbird --version says '$have', not $want_upstream" >&2
        exit 1
    fi
}
