#!/usr/bin/env bash
# Benchmark (not a test): time of `mailtls check` over all seven ports of the local lab against
# the network's floor, measured in the same run: seven `openssl s_client` handshakes to the same
# server, one per port (STARTTLS where the port needs it), all at once. Prints the ratio of
# medians and mailtls's peak RSS. Then what the TLS version probe adds: the same check with and
# without `--no-versions`, and the connections the version probe opens per port. Then what
# inbound delivery adds to a mail-domain check (the validated MX, TXT and TLSA lookups and the
# MTA-STS policy fetch, run beside the probes): `check sts-enforce.test` with and without
# `--no-inbound`.
# Run as root. RUNS=N sets the repetitions (default 20).
# The build runs on the host; the rest runs again in a network of its own (`lab netns`,
# tests/lab/netns.rs), with the lab alone on its loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MAILTLS_NETNS:-}" ]; then
    . scripts/deps.sh
    mailtls_install_deps
    cargo build --release --quiet --bin mailtls --example lab
    exec target/release/examples/lab netns -- bash "$0" "$@"
fi

lab_dir="$MAILTLS_LAB_DIR/bench"
target/release/examples/lab start "$lab_dir" >/dev/null
trap 'target/release/examples/lab stop "$lab_dir"' EXIT

RUNS="${RUNS:-20}" LAB_DIR="$lab_dir" python3 - <<'PY'
import json, os, resource, statistics, subprocess, time

runs = int(os.environ["RUNS"])
ca = os.path.join(os.environ["LAB_DIR"], "certs", "ca.pem")
mailtls = ["target/release/mailtls", "check", "mail.good.test", "--dns", "127.0.0.53",
           "--ca-file", ca, "--json"]
def openssl(port, starttls=None):
    command = ["openssl", "s_client", "-connect", f"127.0.0.10:{port}", "-servername",
               "mail.good.test", "-verify_hostname", "mail.good.test", "-CAfile", ca, "-brief"]
    return command + (["-starttls", starttls] if starttls else [])

floor = [openssl(25, "smtp"), openssl(587, "smtp"), openssl(465), openssl(143, "imap"),
         openssl(993), openssl(110, "pop3"), openssl(995)]

def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    return elapsed, result.returncode

def timed_all(commands):
    """Wall time of running every command at once, until the last one ends."""
    start = time.perf_counter()
    running = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for c in commands]
    codes = [p.wait() for p in running]
    return time.perf_counter() - start, max(codes)

def peak_rss_kib(command):
    # ru_maxrss of children is the largest of all waited-for children: measure in a fresh fork.
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.execvp(command[0], command)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss

# Warm-up, and make sure both work.
for elapsed, code in (timed(mailtls), timed_all(floor)):
    if code != 0:
        raise SystemExit(f"a warm-up run exited {code}")

# Interleaved, so that both see the same machine.
m, o = [], []
for _ in range(runs):
    m.append(timed(mailtls)[0])
    o.append(timed_all(floor)[0])
mm, om = statistics.median(m), statistics.median(o)
rss = peak_rss_kib(mailtls)
print(f"runs                                   {runs}")
print(f"mailtls check, 7 ports                 median {mm*1000:7.1f} ms")
print(f"floor: 7 openssl s_client at once      median {om*1000:7.1f} ms")
print(f"ratio check / floor                    {mm/om:7.2f}x   (goal <= 2x)")
print(f"mailtls peak RSS                       {rss/1024:7.1f} MiB (goal < 20 MiB)")

# The hosting mismatch: the same seven ports, plus the certificate's names resolved and the
# hosting name re-probed on every port before it is recommended.
mismatch = ["target/release/mailtls", "check", "mail.customer.test", "--dns", "127.0.0.53",
            "--ca-file", ca, "--json"]
timed(mismatch)
mm2 = statistics.median([timed(mismatch)[0] for _ in range(runs)])
print(f"mailtls check mail.customer.test       median {mm2*1000:7.1f} ms ({mm2/om:.2f}x the floor; with re-probes)")

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

# Inbound delivery: a mail domain whose MX (mail.good.test) is under an MTA-STS policy in
# enforce mode, with a TLS-RPT record (the lab's dnsmasq has no signed zone: the TLSA lookups are
# asked and come back unvalidated), against the same check without the inbound observation.
domain = ["target/release/mailtls", "check", "sts-enforce.test", "--dns", "127.0.0.53",
          "--ca-file", ca, "--json"]
no_inbound = domain + ["--no-inbound"]
report = json.loads(subprocess.run(domain, stdin=subprocess.DEVNULL, capture_output=True).stdout)
if (report.get("inbound") or {}).get("mta_sts", {}).get("state") != "enforce":
    raise SystemExit(f"check sts-enforce.test did not find its MTA-STS policy: {report.get('inbound')}")
timed(no_inbound)
d, n = [], []
for _ in range(runs):
    d.append(timed(domain)[0])
    n.append(timed(no_inbound)[0])
dm, nm = statistics.median(d), statistics.median(n)
print(f"mailtls check sts-enforce.test         median {dm*1000:7.1f} ms")
print(f"  ... --no-inbound                     median {nm*1000:7.1f} ms")
print(f"ratio check DOMAIN / --no-inbound      {dm/nm:7.2f}x   (goal <= 1.20x)")
PY
