#!/usr/bin/env bash
# Benchmark (not a test) of `mailtls serve`, with wrk (installed from Debian when missing):
# requests per second and p99 latency for a cached result page and for each provisioning
# endpoint, beside a static file served by the same process (the reference, same run); then a
# fresh check through the API (POST, then a long poll) against the same check from the command
# line. Prints the figures and the goals. Run as root (the lab needs it).
# The build runs on the host; the rest runs again in a network of its own (`lab netns`,
# tests/lab/netns.rs), with the lab alone on its loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MAILTLS_NETNS:-}" ]; then
    . scripts/deps.sh
    mailtls_install_deps
    command -v wrk >/dev/null || {
        echo "mailtls: installing wrk" >&2
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null
    }
    cargo build --release --quiet --bin mailtls --example lab
    exec target/release/examples/lab netns -- bash "$0" "$@"
fi

lab_dir="$MAILTLS_LAB_DIR/bench-serve"
work="$(mktemp -d)"
target/release/examples/lab start "$lab_dir" >/dev/null
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; target/release/examples/lab stop "$lab_dir"; rm -rf "$work"' EXIT

ca="$lab_dir/certs/ca.pem"
listen=127.0.0.47:8080
cat > "$work/serve.toml" <<'TOML'
[serve]
checks_per_minute = 100000
checks_in_flight = 64

[pools]
hosting = ["mail.customer.test", "luna.hostingco.test"]

[domains]
"customer.test" = "hosting"
TOML
target/release/mailtls serve --listen "$listen" --db "$work/serve.sqlite" --config "$work/serve.toml" \
    --dns 127.0.0.53 --ca-file "$ca" --allow-private 2>"$work/serve.log" &
serve_pid=$!

cat > "$work/autodiscover.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
wrk.body = [[<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>jane@customer.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>]]
LUA

BASE="http://$listen" WORK="$work" CA="$ca" SERVE_PID="$serve_pid" python3 - <<'PY'
import json, os, re, statistics, subprocess, time, urllib.request

base, work, ca, pid = os.environ["BASE"], os.environ["WORK"], os.environ["CA"], os.environ["SERVE_PID"]

def http(method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(base + path, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()

deadline = time.time() + 60
while True:
    try:
        status, text = http("GET", "/metrics")
        if b'mailtls_provisioning_verified{domain="customer.test"} 1' in text:
            break
    except OSError:
        pass
    assert time.time() < deadline, "serve did not verify customer.test in 60 s"
    time.sleep(0.2)

# One finished check: its page is the cached result page.
_, body = http("POST", "/api/v1/checks", json.dumps({"target": "jane@disc-bad.test"}).encode())
check_id = json.loads(body)["id"]
_, body = http("GET", f"/api/v1/checks/{check_id}?wait=25")
assert json.loads(body)["state"] == "done", body

def wrk(path, script=None):
    """Requests per second and p99 (ms) of 10 s of wrk, 2 threads, 64 connections."""
    command = ["wrk", "-t2", "-c64", "-d10s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [base + path], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"{path}: {errors.group(0)}"
    return rate, float(p99.group(1)) * scale

rows = [
    ("static file /static/mailtls.css (reference)", "/static/mailtls.css", None),
    ("cached result page /r/{id}", f"/r/{check_id}", None),
    ("autoconfig /mail/config-v1.1.xml", "/mail/config-v1.1.xml?emailaddress=jane%40customer.test", None),
    ("autodiscover POST /autodiscover/autodiscover.xml", "/autodiscover/autodiscover.xml", os.path.join(work, "autodiscover.lua")),
    ("Apple /email.mobileconfig", "/email.mobileconfig?emailaddress=jane%40customer.test", None),
]
results = [(name, *wrk(path, script)) for name, path, script in rows]
reference = results[0][1]
print(f"{'':52} {'requests/s':>11} {'p99':>9} {'vs static':>10}")
for name, rate, p99 in results:
    print(f"{name:52} {rate:>11,.0f} {p99:>7.2f}ms {reference / rate:>9.2f}x")
slowest = min(rate for _, rate, _ in results[2:])
print(f"provisioning endpoints: slowest {slowest:,.0f} requests/s, {reference / slowest:.2f}x the static file "
      f"(goals: within 2x of it, at least 10,000 requests/s)")

# A fresh check: the CLI (a process per check) against the API (POST, then a long poll).
cli = ["target/release/mailtls", "check", "mail.good.test", "--json", "--dns", "127.0.0.53", "--ca-file", ca]
cli_times, api_times = [], []
for _ in range(15):
    start = time.perf_counter()
    subprocess.run(cli, stdout=subprocess.DEVNULL, check=False)
    cli_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    _, body = http("POST", "/api/v1/checks", json.dumps({"target": "mail.good.test"}).encode())
    _, body = http("GET", f"/api/v1/checks/{json.loads(body)['id']}?wait=25")
    assert json.loads(body)["state"] == "done"
    api_times.append(time.perf_counter() - start)
cli_ms, api_ms = statistics.median(cli_times) * 1000, statistics.median(api_times) * 1000
print(f"fresh check of mail.good.test (medians of 15, interleaved): CLI {cli_ms:.1f} ms, API {api_ms:.1f} ms, "
      f"difference {api_ms - cli_ms:+.1f} ms (goal: at most +5 ms)")
with open(f"/proc/{pid}/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(f"serve peak RSS: {peak / 1024:.1f} MiB")
PY
