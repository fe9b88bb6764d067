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
#
# WORKERS_ONLY=1 measures the work queue (docs/scan.md, "Many machines"): a throwaway PostgreSQL
# (Debian's, as tests/lab/postgres.rs starts it) and 1, 2 and 4 queue workers at once (WORKERS,
# default "1 2 4") on a database of their own each, with the same limits for all of them
# together, in four settings (SETTINGS, default "bind more small far"): `bind`, limits as a
# provider would keep them (--per-ip 4 --per-ip-rate 20 --dns-rate 1000); `more`, limits that
# let more workers go faster (--per-ip 16 --per-ip-rate 0 --dns-rate 4000); `small`, the same
# with each worker checking one target at a time (--parallel 1, each worker's own), so that a
# worker's own pace binds rather than the 2 cores; `far`, the hosting server 20 ms of round
# trip away (the proxy holds each piece 10 ms each way), --per-ip 64, --parallel 2: the round
# trips bind, as they do for a scanning machine far from the provider's servers. Beside them
# one worker on SQLite with the same options, to show what the queue and the leases cost, and
# for each N above 1, N SQLite shards at once, each with its own limits: what N processes get
# from the lab with nothing shared, the most N queue workers could reach where the limits do
# not bind. Per run: wall time, domains a second, ratio to one worker, what the hosting server
# saw (connections, most at once, most in a second), the largest peak RSS of a worker, CPU, DNS
# questions lost, and the targets recorded (all 2,000, or the run fails). Fails when the
# hosting server saw more than --per-ip at once or more than --per-ip-rate + 1 new connections
# in a second. No sslyze. SCAN_OPTIONS adds options to every worker of every run, to compare
# (e.g. SCAN_OPTIONS="--memo 64").
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
    if [ -z "${INBOUND_ONLY:-}" ] && [ -z "${WORKERS_ONLY:-}" ]; then
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
import os, statistics, subprocess, sys, time
sys.path.insert(0, "scripts")
from bench_scan_lab import fleet_list, lab_options
work, lab = os.environ["WORK"], os.environ["LAB_DIR"]
runs = int(os.environ["RUNS"])
fleet = fleet_list(work)
lab_args = lab_options(lab)

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

if [ -n "${WORKERS_ONLY:-}" ]; then
# A throwaway PostgreSQL, as tests/lab/postgres.rs starts one: Debian's newest under
# /usr/lib/postgresql, initdb as `postgres` (it refuses root), trust authentication, listening
# on this network's own 127.0.0.1 only.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -x "$pg_bin/initdb" ] || { echo "bench-scan: no PostgreSQL under /usr/lib/postgresql" >&2; exit 1; }
pg_dir="$MAILTLS_LAB_DIR/bench-scan-postgres"
rm -rf "$pg_dir"
mkdir -p "$pg_dir"
chown postgres:postgres "$pg_dir"
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -o "-k $pg_dir -h 127.0.0.1 -p 55432" \
    -l "$pg_dir/log" -w start >/dev/null
trap 'runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1;
      target/release/examples/lab stop "$lab_dir"' EXIT

WORK="$work" LAB_DIR="$lab_dir" PG_BIN="$pg_bin" WORKERS="${WORKERS:-1 2 4}" \
    SCAN_OPTIONS="${SCAN_OPTIONS:-}" \
    SETTINGS="${SETTINGS:-bind more small far}" python3 - <<'PY'
import json, os, re, sqlite3, subprocess, sys, time
sys.path.insert(0, "scripts")
from bench_scan_lab import Front, fleet_list, lab_options

work, lab, pg_bin = os.environ["WORK"], os.environ["LAB_DIR"], os.environ["PG_BIN"]
counts = [int(n) for n in os.environ["WORKERS"].split()]
# The same limits for every run of a setting: (options, --per-ip, --per-ip-rate, how far away
# the hosting server is: milliseconds the proxy holds each piece, each way).
SETTINGS = {
    "bind": (["--per-ip", "4", "--per-ip-rate", "20", "--dns-rate", "1000"], 4, 20, 0),
    "more": (["--per-ip", "16", "--per-ip-rate", "0", "--dns-rate", "4000"], 16, 0, 0),
    # The same limits, each worker checking one target at a time (its own --parallel): a
    # worker's own pace binds, not the shared limits or (with 1 or 2 workers) the machine.
    "small": (["--per-ip", "16", "--per-ip-rate", "0", "--dns-rate", "4000", "--parallel", "1"],
              16, 0, 0),
    # The hosting server 20 ms of round trip away, as a provider's servers are from the
    # scanning machines (the lab's answer at once); each worker 2 targets at a time, and room
    # for 4 workers' connections: the round trips bind, not the limits or the 2 cores.
    "far": (["--per-ip", "64", "--per-ip-rate", "0", "--dns-rate", "4000", "--parallel", "2"],
            64, 0, 10),
}
settings = os.environ["SETTINGS"].split()
assert all(s in SETTINGS for s in settings), f"SETTINGS: {settings}, known: {list(SETTINGS)}"
front = Front()
ask = front.ask

def pg(tool, *args):
    return subprocess.run([os.path.join(pg_bin, tool), "-h", "127.0.0.1", "-p", "55432",
                           "-U", "postgres", *args], check=True, capture_output=True,
                          text=True).stdout.strip()

def udp_dropped():
    """Datagrams this network dropped for want of room in a socket's receive buffer so far (the
    lab's dnsmasq's, when it cannot keep up): a lost question costs its check a resend 5 s later
    or, lost twice, a check again."""
    with open("/proc/net/snmp") as snmp:
        udp = [line.split() for line in snmp if line.startswith("Udp:")]
    return int(udp[1][udp[0].index("RcvbufErrors")])

def cpu():
    """The machine's CPU time so far: (all, idle), in clock ticks (/proc/stat is the host's)."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:8]]
    return sum(ticks), ticks[3] + ticks[4]

fleet = fleet_list(work)
# The targets in it: its names, each once (it also holds a comment, a line that is no name and a
# name twice in other letters, which the scan rejects or skips).
size = len({line.strip().lower() for line in open(fleet)
            if line.strip() and not line.startswith("#") and " " not in line.strip()})
lab_args = lab_options(lab)
# SCAN_OPTIONS: more options for every worker of every run (e.g. --memo 64), to compare.
extra = os.environ.get("SCAN_OPTIONS", "").split()

def workers(n, db, options, label):
    """Runs n workers of one scan at once; what they took and what the hosting server saw. With
    a list of SQLite files as db, worker i is --shard i/n into file i (no shared limits)."""
    def command(i):
        shard = ["--db", db[i], "--shard", f"{i}/{n}"] if isinstance(db, list) else ["--db", db]
        return ["target/release/mailtls", "scan", fleet, "--scan", "bench"] + shard \
            + options + extra + lab_args
    logs = [open(os.path.join(work, f"{label}-{i}.log"), "w") for i in range(n)]
    ask("reset")
    all_before, idle_before = cpu()
    dropped_before = udp_dropped()
    start = time.perf_counter()
    children = [subprocess.Popen(command(i), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=log) for i, log in enumerate(logs)]
    rss, seconds, codes = 0, 0.0, []
    for child in children:
        _, status, usage = os.wait4(child.pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
        rss = max(rss, usage.ru_maxrss)
        seconds += usage.ru_utime + usage.ru_stime
    wall = time.perf_counter() - start
    all_after, idle_after = cpu()
    dropped = udp_dropped() - dropped_before
    for log in logs:
        log.close()
    repeated = 0
    for i in range(n):
        text = open(os.path.join(work, f"{label}-{i}.log")).read()
        found = re.search(r"(\d+) checks repeated", text)
        repeated += int(found.group(1)) if found else 0
    seen = json.loads(ask("stats"))
    for i, code in enumerate(codes):
        if code != 0:
            sys.stderr.write(open(os.path.join(work, f"{label}-{i}.log")).read()[-2000:])
        assert code == 0, f"{label}: worker {i} exited {code}"
    busy = 1 - (idle_after - idle_before) / max(all_after - all_before, 1)
    return {"wall": wall, "rss": rss, "cpu": seconds, "busy": busy, "front": seen,
            "dns": f"{dropped}/{repeated}"}

rows, over = [], []
for setting in settings:
    options, per_ip, rate, delay = SETTINGS[setting]
    assert ask(f"delay {delay}") == f"delay {delay}", "the proxy took no delay"
    # The reference: one worker on SQLite (no queue, no leases; the same limits, kept in-process).
    label = f"{setting}-sqlite"
    result = workers(1, os.path.join(work, f"{label}.sqlite"), options, label)
    result["recorded"] = sqlite3.connect(os.path.join(work, f"{label}.sqlite")).execute(
        "SELECT COUNT(*) FROM targets").fetchone()[0]
    result["split"] = str(result["recorded"])
    rows.append((setting, "SQLite", 1, result))
    for n in counts:
        if n == 1:
            continue
        # What n processes get from the lab with nothing shared: n SQLite shards, each with
        # its own limits (where the limits do not bind, the most n queue workers could reach).
        label = f"{setting}-shards-{n}"
        files = [os.path.join(work, f"{label}-{i}.sqlite") for i in range(n)]
        result = workers(n, files, options, label)
        recorded = [sqlite3.connect(f).execute("SELECT COUNT(*) FROM targets").fetchone()[0]
                    for f in files]
        result["recorded"], result["split"] = sum(recorded), "+".join(map(str, recorded))
        rows.append((setting, "SQLite/N", n, result))
    for n in counts:
        label = f"{setting}-{n}"
        name = f"bench_{setting}_{n}"
        pg("createdb", name)
        result = workers(n, f"postgres://postgres@127.0.0.1:55432/{name}", options, label)
        result["recorded"] = int(pg("psql", "-d", name, "-A", "-t", "-c",
                                    "SELECT COUNT(*) FROM targets WHERE scan_id = 'bench'"))
        result["split"] = "+".join(pg("psql", "-d", name, "-A", "-t", "-c",
                                      "SELECT COUNT(*) FROM targets WHERE scan_id = 'bench' "
                                      "GROUP BY run_id ORDER BY 1 DESC").split())
        rows.append((setting, "PostgreSQL", n, result))
    for store, n, result in [(r[1], r[2], r[3]) for r in rows if r[0] == setting]:
        seen = result["front"]
        # Shards keep each their own limits: n times them, by design.
        shared = 1 if store != "SQLite/N" else n
        if seen["peak"] > per_ip * shared or (rate and seen["per_second"] > rate * shared + 1):
            over.append(f"{setting}, {n} on {store}: {seen['peak']} at once, "
                        f"{seen['per_second']} in a second")
        if result["recorded"] != size:
            over.append(f"{setting}, {n} on {store}: {result['recorded']} of {size} recorded")
front.close()

print(f"{size} domains; limits for all the workers of a run together; the hosting server "
      "counted by the proxy in front of it")
print(f"{'limits':34} {'store':10} {'workers':>7} {'wall':>8} {'domains/s':>9} {'vs 1':>5} "
      f"{'vs SQLite':>9} {'conns':>6} {'at once':>7} {'in 1 s':>6} {'max RSS':>9} "
      f"{'CPU':>7} {'busy':>5} {'DNS':>7} {'recorded (per worker)':>22}")
for setting in settings:
    options, per_ip, rate, delay = SETTINGS[setting]
    mine = [r for r in rows if r[0] == setting]
    sqlite_wall = mine[0][3]["wall"]
    one = next((r[3]["wall"] for r in mine if r[1] == "PostgreSQL" and r[2] == 1), None)
    for _, store, n, result in mine:
        seen = result["front"]
        speedup = f"{one / result['wall']:.2f}x" if one and store == "PostgreSQL" else ""
        at_once = f"{seen['peak']}/{per_ip}"
        per_second = f"{seen['per_second']}/{rate}" if rate else str(seen["per_second"])
        recorded = f"{result['recorded']} ({result['split']})"
        print(f"{' '.join(options):34} {store:10} {n:>7} {result['wall']:>7.1f}s "
              f"{size / result['wall']:>9.1f} {speedup:>5} {result['wall'] / sqlite_wall:>8.2f}x "
              f"{seen['total']:>6} {at_once:>7} {per_second:>6} {result['rss'] / 1024:>6.1f}MiB "
              f"{result['cpu']:>6.1f}s {result['busy']:>5.0%} {result['dns']:>7} {recorded:>22}")
print("'vs 1': the one-worker PostgreSQL run's wall time over this run's (goal >= 1.8x with 2 "
      "where the limits allow it); 'vs SQLite': this run's wall time over one SQLite worker's; "
      "'in 1 s': most new connections in any second (limit: --per-ip-rate, +1 for the window's "
      "edges); 'max RSS': the largest peak RSS of the run's workers (goal < 100 MiB); 'CPU': "
      "the workers' CPU time together; 'busy': the machine's CPU busy over the run (all cores); "
      "'DNS': questions the lab's dnsmasq dropped (its receive buffer full) / checks repeated "
      "because DNS did not answer; 'SQLite/N': N workers as N SQLite shards, each with its own "
      "limits (N times them): what N processes get from the lab with nothing shared")
if over:
    print("OVER THE LIMITS OR INCOMPLETE: " + "; ".join(over))
    sys.exit(1)
print("never over the limits: at most --per-ip at once and --per-ip-rate (+1) a second at the "
      f"hosting server in every run; every run recorded all {size} targets")
PY
exit 0
fi

WORK="$work" LAB_DIR="$lab_dir" SSLYZE_ENDPOINTS="${SSLYZE_ENDPOINTS:-0}" python3 - <<'PY'
import json, os, sqlite3, subprocess, sys, time
from collections import defaultdict
sys.path.insert(0, "scripts")
from bench_scan_lab import Front, fleet_list, lab_options

work, lab = os.environ["WORK"], os.environ["LAB_DIR"]
limit = int(os.environ["SSLYZE_ENDPOINTS"])
front = Front()
ask = front.ask

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

fleet = fleet_list(work)
lab_args = lab_options(lab)

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
front.close()

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
