#!/usr/bin/env bash
# Installs the real servers the lab runs (Dovecot, Postfix, dnsmasq) and the tools it calls, when
# missing. Sourced by test.sh, demo.sh and bench.sh. Needs root, as does the lab itself (ports
# below 1024, `ip addr add` on lo).
set -euo pipefail

mailtls_install_deps() {
    if [ "$(id -u)" != 0 ]; then
        echo "mailtls: the local test servers need root (ports 25/143/..., ip addr on lo); run as root" >&2
        exit 1
    fi
    local missing=()
    command -v dovecot >/dev/null || missing+=(dovecot-imapd)
    [ -x /usr/lib/dovecot/pop3 ] || missing+=(dovecot-pop3d)
    command -v postfix >/dev/null || missing+=(postfix)
    command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
    command -v ip >/dev/null || missing+=(iproute2)
    command -v script >/dev/null || missing+=(util-linux)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v cc >/dev/null || missing+=(gcc)
    command -v python3 >/dev/null || missing+=(python3)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "mailtls: installing ${missing[*]}" >&2
        # Keep the distribution's own Dovecot/Postfix from starting on 0.0.0.0 during the install:
        # they would take the ports the lab needs.
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
    # A system-wide Postfix or Dovecot on the wildcard address would hold the lab's ports.
    if ss -ltnH 2>/dev/null | awk '{print $4}' | grep -Eq '^(0\.0\.0\.0|\*|\[::\]):(25|143|993|110|995|465|587)$'; then
        echo "mailtls: a server already listens on all addresses on a mail port (ss -ltnp shows which);" >&2
        echo "         stop it (e.g. systemctl stop postfix dovecot) so the lab can use 127.0.0.x" >&2
        exit 1
    fi
}
