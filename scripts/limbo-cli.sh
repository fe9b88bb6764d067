#!/usr/bin/env bash
# x509-limbo through the command line: every SERVER test case of tests/data/x509-limbo/limbo.json
# is written out as PEM files and judged by the release binary,
#   mailtls cert verify --json --chain CHAIN --roots ROOTS [--name NAME] [--at TIME]
#                       [--crl CRL]... [--max-depth DEPTH+1]
# and compared with its expected_result. Prints the same score as `cargo test --test limbo`
# and exits 1 when the disagreements are not the ones listed in docs/conformance.md.
#
# Offline, no lab, no root needed. The binary's --max-depth counts the server certificate too,
# so a case's max_chain_depth (intermediates) is passed plus one. A case the binary refuses to
# read (exit 64: an unreadable leaf, no usable root) counts as a rejection, as in the test.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin mailtls

python3 - <<'PY'
import json, os, re, subprocess, sys, tempfile

BINARY = "target/release/mailtls"
corpus = json.load(open("tests/data/x509-limbo/limbo.json"))
cases = [c for c in corpus["testcases"] if c["validation_kind"] == "SERVER"]

def accepts(case, directory):
    def write(name, text):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path
    chain = write("chain.pem", case["peer_certificate"] + "".join(case["untrusted_intermediates"]))
    roots = write("roots.pem", "".join(case["trusted_certs"]))
    args = [BINARY, "cert", "verify", "--json", "--chain", chain, "--roots", roots]
    peer = case.get("expected_peer_name")
    if peer and peer.get("kind") in ("DNS", "IP"):
        args += ["--name", peer["value"]]
    if case.get("validation_time"):
        args += ["--at", case["validation_time"]]
    for index, crl in enumerate(case.get("crls") or []):
        args += ["--crl", write(f"crl-{index}.pem", crl)]
    if case.get("max_chain_depth") is not None:
        args += ["--max-depth", str(case["max_chain_depth"] + 1)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if done.returncode == 64:
        return False, done.stderr.strip()
    if done.returncode not in (0, 2):
        sys.exit(f"{case['id']}: exit {done.returncode}: {done.stderr.strip()}")
    output = json.loads(done.stdout)
    return output["valid"], "; ".join(r["code"] for r in output["rejections"])

disagreements = {}
with tempfile.TemporaryDirectory(prefix="mailtls-limbo-") as top:
    for number, case in enumerate(cases):
        directory = os.path.join(top, str(number))
        os.mkdir(directory)
        valid, why = accepts(case, directory)
        expected = case["expected_result"] == "SUCCESS"
        if valid != expected:
            disagreements[case["id"]] = (case["expected_result"], why)

agree = len(cases) - len(disagreements)
print(f"x509-limbo (cert verify): {agree} of {len(cases)} SERVER test cases agree "
      f"({agree * 100 / len(cases):.1f}%), {len(disagreements)} disagreements")
for case_id, (expected, why) in sorted(disagreements.items()):
    print(f"  {case_id}: expected {expected}{': ' + why if why else ''}")

listed = set()
for line in open("docs/conformance.md"):
    match = re.match(r"\| `([^`]+)` \|", line)
    if match:
        listed.add(match.group(1))
if listed != set(disagreements):
    for case_id in sorted(set(disagreements) - listed):
        print(f"  NEW disagreement: {case_id}")
    for case_id in sorted(listed - set(disagreements)):
        print(f"  listed in docs/conformance.md but now agrees: {case_id}")
    sys.exit(1)
PY
