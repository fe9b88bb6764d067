#!/usr/bin/env bash
# Benchmark (not a test): `mailtls scan` of the lab's 2,000-domain fleet against sslyze's
# concurrent scanner, in the same run, on the same endpoints, with the same limit of 4
# connections at once per server address (sslyze: one server scanned at a time per address,
# 4 connections per server; mailtls: --per-ip 4, no per-second rate, as sslyze has none). A
# counting proxy in front of the fleet's hosting server counts what that server sees: the
# connections (each a handshake) and the most at once. Then the memory of a 100,000-line list.
# Prints both wall times, the ratio, the connections and the peak RSS; beside them sslyze's
# certificate-only scan, the least it can do (it leaves out the TLS versions mailtls reports).
#
# sslyze comes from PyPI into a throwaway virtual environment. Its scan of every endpoint takes
# about half an hour on 2 cores; SSLYZE_ENDPOINTS=N scans only the first N (the ratio is then
# against sslyze's time extrapolated per endpoint, and says so). Run as root.
#
# INBOUND_ONLY=1 measures only what inbound delivery adds to the scan: the fleet scanned with
# and without `--no-inbound`, RUNS times each (default 3), interleaved; no sslyze.
# The build runs on the host; the rest runs again in a network of its own (`lab netns`,
# tests/lab/netns.rs), with the lab alone on its loopback; sslyze is installed before, on the
# host, as nothing inside reaches PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MAILTLS_NETNS:-}" ]; then
    . scripts/deps.sh
    mailtls_install_deps
    cargo build --release --quiet --bin mailtls --example lab
    MAILTLS_BENCH_WORK="$(mktemp -d)"
    export MAILTLS_BENCH_WORK
    if [ -z "${INBOUND_ONLY:-}" ]; then
        python3 -m venv "$MAILTLS_BENCH_WORK/venv"
        "$MAILTLS_BENCH_WORK/venv/bin/pip" install -q --disable-pip-version-check sslyze==6.3.1
    fi
    target/release/examples/lab netns -- bash "$0" "$@" || status=$?
    rm -rf "$MAILTLS_BENCH_WORK"
    exit "${status:-0}"
fi

lab_dir="$MAILTLS_LAB_DIR/bench-scan"
work="$MAILTLS_BENCH_WORK"
target/release/examples/lab start "$lab_dir" >/dev/null
trap 'target/release/examples/lab stop "$lab_dir"' EXIT

cat > "$work/sslyze_runner.py" <<'PY'
"""Scans a list of endpoints of one address with sslyze: certificate and TLS 1.0 to 1.3 (or,
with a second argument `cert`, the certificate only), one server at a time, 4 connections per
server (so at most 4 to the address)."""
import json, sys
from sslyze import Scanner, ServerScanRequest, ScanCommand
from sslyze.server_setting import (ServerNetworkLocation, ServerNetworkConfiguration,
                                   ProtocolWithOpportunisticTlsEnum)

STARTTLS = {25: ProtocolWithOpportunisticTlsEnum.SMTP, 587: ProtocolWithOpportunisticTlsEnum.SMTP,
            143: ProtocolWithOpportunisticTlsEnum.IMAP, 110: ProtocolWithOpportunisticTlsEnum.POP3}
COMMANDS = {ScanCommand.CERTIFICATE_INFO, ScanCommand.TLS_1_0_CIPHER_SUITES,
            ScanCommand.TLS_1_1_CIPHER_SUITES, ScanCommand.TLS_1_2_CIPHER_SUITES,
            ScanCommand.TLS_1_3_CIPHER_SUITES}
if sys.argv[2:] == ["cert"]:
    COMMANDS = {ScanCommand.CERTIFICATE_INFO}
endpoints = json.load(open(sys.argv[1]))
requests = [ServerScanRequest(
    server_location=ServerNetworkLocation(hostname=name, port=port, ip_address=address),
    network_configuration=ServerNetworkConfiguration(
        tls_server_name_indication=name, tls_opportunistic_encryption=STARTTLS.get(port)),
    scan_commands=COMMANDS) for name, address, port in endpoints]
scanner = Scanner(per_server_concurrent_connections_limit=4, concurrent_server_scans_limit=1)
scanner.queue_scans(requests)
done = sum(1 for result in scanner.get_results() if result.scan_result is not None)
print(json.dumps({"scanned": done, "asked": len(requests)}))
PY

if [ -n "${INBOUND_ONLY:-}" ]; then
WORK="$work" LAB_DIR="$lab_dir" RUNS="${RUNS:-3}" python3 - <<'PY'
import os, statistics, subprocess, time
work, lab = os.environ["WORK"], os.environ["LAB_DIR"]
runs = int(os.environ["RUNS"])
ca = os.path.join(lab, "certs", "ca.pem")
fleet = os.path.join(work, "fleet.txt")
with open(fleet, "w") as out:
    subprocess.run(["target/release/examples/lab", "fleet-list"], stdout=out, check=True)
lab_args = ["--dns", "127.0.0.53", "--ca-file", ca, "--timeout", "5"]

def scan(extra, n):
    db = os.path.join(work, f"inbound-{n}.sqlite")
    start = time.perf_counter()
    code = subprocess.run(["target/release/mailtls", "scan", fleet, "--db", db, "--per-ip", "4",
                           "--per-ip-rate", "0", "--dns-rate", "4000"] + lab_args + extra,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode
    assert code == 0, f"mailtls scan {extra} exited {code}"
    os.remove(db)
    return time.perf_counter() - start

with_inbound, without = [], []
for n in range(runs):
    with_inbound.append(scan([], f"{n}-with"))
    without.append(scan(["--no-inbound"], f"{n}-without"))
w, o = statistics.median(with_inbound), statistics.median(without)
print(f"runs                                   {runs}")
print(f"mailtls scan, 2,000 domains            median {w:7.1f} s  ({', '.join(f'{t:.1f}' for t in with_inbound)})")
print(f"  ... --no-inbound                     median {o:7.1f} s  ({', '.join(f'{t:.1f}' for t in without)})")
print(f"ratio scan / scan --no-inbound         {w/o:7.2f}x   (goal <= 1.25x)")
PY
exit 0
fi

WORK="$work" LAB_DIR="$lab_dir" SSLYZE_ENDPOINTS="${SSLYZE_ENDPOINTS:-0}" python3 - <<'PY'
import json, os, sqlite3, subprocess, time
from collections import defaultdict

work, lab = os.environ["WORK"], os.environ["LAB_DIR"]
limit = int(os.environ["SSLYZE_ENDPOINTS"])
ca = os.path.join(lab, "certs", "ca.pem")
front = subprocess.Popen(["target/release/examples/lab", "front"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
assert front.stdout.readline().strip() == "ready", "the proxy did not start"

def ask(command):
    front.stdin.write(command + "\n"); front.stdin.flush()
    return front.stdout.readline().strip()

def run(command, stdout=subprocess.DEVNULL):
    """Wall time, exit status and peak RSS (KiB) of one command."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, os.waitstatus_to_exitcode(status), usage.ru_maxrss

def run_all(commands):
    """Wall time of running every command at once; the largest peak RSS among them."""
    start = time.perf_counter()
    children = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL) for c in commands]
    peak, outputs = 0, []
    for child in children:
        outputs.append(child.stdout.read())
        _, status, usage = os.wait4(child.pid, 0)
        peak = max(peak, usage.ru_maxrss)
    return time.perf_counter() - start, peak, outputs

fleet = os.path.join(work, "fleet.txt")
with open(fleet, "w") as out:
    subprocess.run(["target/release/examples/lab", "fleet-list"], stdout=out, check=True)
lab_args = ["--dns", "127.0.0.53", "--ca-file", ca, "--timeout", "5"]

# 1. mailtls: the whole fleet, discovery included.
db = os.path.join(work, "fleet.sqlite")
ask("reset")
wall, code, rss = run(["target/release/mailtls", "scan", fleet, "--db", db, "--per-ip", "4",
                       "--per-ip-rate", "0", "--dns-rate", "4000"] + lab_args)
assert code == 0, f"mailtls scan exited {code}"
mailtls_front = json.loads(ask("stats"))
targets = sqlite3.connect(db).execute("SELECT COUNT(*) FROM targets").fetchone()[0]

# 2. sslyze on the endpoints mailtls found with TLS, grouped by address (the limit is per
#    address: one sslyze process per address, all at once).
rows = sqlite3.connect(db).execute(
    "SELECT DISTINCT COALESCE(sni, host), address, port FROM endpoints "
    "WHERE tls_version IS NOT NULL ORDER BY address, port, 1").fetchall()
endpoints = rows if limit == 0 else rows[:limit]
by_address = defaultdict(list)
for name, address, port in endpoints:
    by_address[address].append((name, address, port))
commands = []
for address, group in by_address.items():
    path = os.path.join(work, f"endpoints-{address}.json")
    json.dump(group, open(path, "w"))
    commands.append([os.path.join(work, "venv", "bin", "python"),
                     os.path.join(work, "sslyze_runner.py"), path])
ask("reset")
sslyze_wall, sslyze_rss, outputs = run_all(commands)
sslyze_front = json.loads(ask("stats"))
scanned = sum(json.loads(o)["scanned"] for o in outputs if o.strip())
# The least sslyze can do: the certificate alone (no TLS versions, which mailtls also finds).
ask("reset")
cert_wall, cert_rss, outputs = run_all([c + ["cert"] for c in commands])
cert_front = json.loads(ask("stats"))

# 3. Memory: a 100,000-line list (the fleet, then names that do not resolve).
big = os.path.join(work, "big.txt")
with open(big, "w") as out:
    out.write(open(fleet).read())
    for n in range(100_000 - 2_000):
        out.write(f"gone{n:05d}.hosted.test\n")
big_wall, code, big_rss = run(["target/release/mailtls", "scan", big, "--db",
                                os.path.join(work, "big.sqlite"), "--per-ip-rate", "0",
                                "--dns-rate", "4000"] + lab_args)
assert code == 0, f"mailtls scan of 100,000 lines exited {code}"
front.stdin.close()

scale = len(rows) / max(len(endpoints), 1)
extrapolated, cert_extrapolated = sslyze_wall * scale, cert_wall * scale
print(f"{'':42} {'mailtls scan':>16} {'sslyze':>16} {'sslyze cert only':>17}")
print(f"{'what':42} {f'{targets} targets':>16} {f'{scanned} endpoints':>16} {f'{scanned} endpoints':>17}")
print(f"{'wall time':42} {wall:>15.1f}s {sslyze_wall:>15.1f}s {cert_wall:>16.1f}s")
if limit:
    print(f"{'sslyze, all ' + str(len(rows)) + ' endpoints (extrapolated)':42} {'':>16} {extrapolated:>15.1f}s {cert_extrapolated:>16.1f}s")
print(f"{'connections to the hosting server':42} {mailtls_front['total']:>16} {sslyze_front['total']:>16} {cert_front['total']:>17}")
print(f"{'most at once there (limit 4)':42} {mailtls_front['peak']:>16} {sslyze_front['peak']:>16} {cert_front['peak']:>17}")
print(f"{'peak RSS':42} {rss / 1024:>14.1f}MiB {sslyze_rss / 1024:>14.1f}MiB {cert_rss / 1024:>15.1f}MiB")
print(f"ratio sslyze / mailtls: {extrapolated / wall:.1f}x" + (" (sslyze extrapolated)" if limit else "")
      + " (goal at least 20x); against sslyze's certificate-only scan, which does not find the "
      + f"TLS versions mailtls reports: {cert_extrapolated / wall:.1f}x")
print(f"100,000-line list: {big_wall:.1f}s, peak RSS {big_rss / 1024:.1f} MiB (goal under 200 MiB)")
PY
