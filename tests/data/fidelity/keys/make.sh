#!/usr/bin/env bash
# Makes the keys of the fidelity matrix (tests/fidelity.rs). Run once; the keys are committed so
# that every run signs with the same keys and the matrix spends no time on key generation (an
# RSA-4096 key alone takes seconds). Test keys only: nothing outside the tests is signed with them.
set -euo pipefail
cd "$(dirname "$0")"
rsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1.pem" 2>/dev/null; }
ec() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1.pem"; }
# CA keys: one per CA subject, so no two CAs share a key identifier (a cross-signed CA keeps its
# subject and key under both issuers).
for n in $(seq -w 1 32); do rsa "ca$n" 2048; done
rsa ca-rsa1024 1024
ec ca-p256 P-256
ec ca-p384 P-384
ec ca-p521 P-521
ec root-p384 P-384
openssl genpkey -algorithm ED25519 -out ca-ed25519.pem
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out ca-rsapss.pem 2>/dev/null
# Server keys, one of each kind (server certificates may share a key).
rsa leaf-rsa1024 1024
rsa leaf-rsa2048 2048
rsa leaf-rsa3072 3072
rsa leaf-rsa4096 4096
ec leaf-p256 P-256
ec leaf-p384 P-384
ec leaf-p521 P-521
openssl genpkey -algorithm ED25519 -out leaf-ed25519.pem
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out leaf-rsapss.pem 2>/dev/null
