#!/usr/bin/env bash
# Benchmark (not a test): time of `mailtls check` over all seven ports of the local lab against
# one `openssl s_client -starttls imap` handshake to the same server, in the same run; prints the
# ratio of medians and mailtls's peak RSS. Then what the TLS version probe adds: the same check
# with and without `--no-versions`, and the connections the version probe opens per port.
# Run as root. RUNS=N sets the repetitions (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
mailtls_install_deps

cargo build --release --quiet --bin mailtls --example lab
lab_dir="${MAILTLS_LAB_DIR:-/tmp/mailtls-lab}/bench"
target/release/examples/lab start "$lab_dir" >/dev/null
trap 'target/release/examples/lab stop "$lab_dir"' EXIT

RUNS="${RUNS:-20}" LAB_DIR="$lab_dir" python3 - <<'PY'
import json, os, resource, statistics, subprocess, time

runs = int(os.environ["RUNS"])
ca = os.path.join(os.environ["LAB_DIR"], "certs", "ca.pem")
mailtls = ["target/release/mailtls", "check", "mail.good.test", "--dns", "127.0.0.53",
           "--ca-file", ca, "--json"]
openssl = ["openssl", "s_client", "-connect", "127.0.0.10:143", "-starttls", "imap",
           "-servername", "mail.good.test", "-verify_hostname", "mail.good.test", "-CAfile", ca,
           "-brief"]

def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    return elapsed, result.returncode

def peak_rss_kib(command):
    # ru_maxrss of children is the largest of all waited-for children: measure in a fresh fork.
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.execvp(command[0], command)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss

for command in (mailtls, openssl):  # warm-up, and make sure both work
    elapsed, code = timed(command)
    if code != 0:
        raise SystemExit(f"{command[0]} exited {code}")

m = [timed(mailtls)[0] for _ in range(runs)]
o = [timed(openssl)[0] for _ in range(runs)]
mm, om = statistics.median(m), statistics.median(o)
rss = peak_rss_kib(mailtls)
print(f"runs                                   {runs}")
print(f"mailtls check, 7 ports (+SNI-less, PTR) median {mm*1000:7.1f} ms")
print(f"openssl s_client -starttls imap, 1 port median {om*1000:7.1f} ms")
print(f"ratio mailtls / openssl                {mm/om:7.2f}x   (goal <= 3x)")
print(f"mailtls peak RSS                       {rss/1024:7.1f} MiB (goal < 20 MiB)")

# The version probe: all four TLS versions (and weak suites, SSL 3.0 where TLS 1.0 answers) of
# all seven ports, against the same check without it.
plain = mailtls + ["--no-versions"]
p = [timed(plain)[0] for _ in range(runs)]
pm = statistics.median(p)
report = json.loads(subprocess.run(mailtls, stdin=subprocess.DEVNULL, capture_output=True).stdout)
probes = [len(e.get("tls_probes", [])) for e in report["endpoints"]]
known = all(all(r["status"] != "unknown" for r in e["tls_versions"] or [{"status": "unknown"}])
            for e in report["endpoints"])
print(f"mailtls check --no-versions median     {pm*1000:7.1f} ms")
print(f"extra time for the version probe       {(mm-pm)*1000:7.1f} ms per run ({(mm-pm)*1000/len(probes):.1f} ms per port)")
print(f"ratio check / check --no-versions      {mm/pm:7.2f}x   (goal < 2x)")
print(f"version-probe connections              {sum(probes)} for {len(probes)} ports ({', '.join(map(str, probes))})")
print(f"all four versions known on every port  {known}")
PY
