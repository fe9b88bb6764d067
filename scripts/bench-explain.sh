#!/usr/bin/env bash
# Benchmark (not a test): how long `mailtls explain` takes to answer, against the same binary
# doing nothing but start (`mailtls --version`) in the same run, so the ratio shows what matching
# costs beyond starting a process. Goal: an answer in under 10 ms. No lab, no root needed.
# RUNS=N sets the repetitions (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mailtls

RUNS="${RUNS:-50}" python3 - <<'PY'
import os, statistics, subprocess, time

runs = int(os.environ["RUNS"])
binary = "target/release/mailtls"
texts = {
    "Outlook, Autodiscover": "Security Alert\nThe name on the security certificate is invalid or does not match the name of the site\nDo you want to proceed?",
    "iOS, with a server name": "Cannot Verify Server Identity\nThe identity of \u201cmail.customer.example\u201d cannot be verified by Mail.",
    "retyped from memory": "certificate belongs to another site someone trying to impersonate",
    "not recognised": "The printer is out of paper",
}
# The worst case the input cap allows: a pasted log of nearly 64 KiB (words of every length,
# most of them near-misses of dialog words) with the Outlook dialog at its end, on stdin.
words = ["certificate", "server", "name", "security", "mail", "identity", "verify", "trusted",
         "connection", "the", "of", "a", "outlook", "thunderbird", "warning", "x" * 40]
filler, i = [], 0
while sum(len(w) + 1 for w in filler) < 64 * 1024 - 400:
    filler.append(words[(i * 7) % len(words)]); i += 1
long_text = " ".join(filler) + "\n" + texts["Outlook, Autodiscover"]
assert len(long_text.encode()) <= 64 * 1024, len(long_text.encode())

# A mail server's log as people paste it: 64 KiB of ordinary Postfix lines with one certificate
# failure in the middle, and the same for a whole 1 MiB log (the input cap).
line = ("Dec  4 10:{m:02}:{s:02} mx postfix/smtp[{p}]: 4F1A{p}: to=<user{p}@example.org>, "
        "relay=mx.example.org[192.0.2.{o}]:25, delay=0.{o}, status=sent (250 2.0.0 Ok)\n")
failure = ("Dec  4 10:30:00 mx postfix/smtp[999]: server certificate verification failed for "
           "mail.customer.com[192.0.2.7]:25: num=62:hostname mismatch\n")
def log(size):
    lines, i = [], 0
    while sum(len(l) for l in lines) < size - 400:
        lines.append(line.format(m=i % 60, s=(i * 7) % 60, p=1000 + i, o=i % 250)); i += 1
    lines.insert(len(lines) // 2, failure)
    return "".join(lines).encode()
logs = {"64 KiB Postfix log": log(64 * 1024), "1 MiB Postfix log": log(1024 * 1024)}

def timed(args, stdin=None):
    start = time.perf_counter()
    subprocess.run(args, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    return time.perf_counter() - start

timed([binary, "--version"])
reference = statistics.median(timed([binary, "--version"]) for _ in range(runs))
print(f"runs                                   {runs}")
print(f"mailtls --version (start only)         median {reference*1000:6.2f} ms")
for name, text in texts.items():
    median = statistics.median(timed([binary, "explain", text]) for _ in range(runs))
    print(f"mailtls explain: {name:<22} median {median*1000:6.2f} ms  "
          f"({median/reference:.2f}x start-up; goal under 10 ms)")
data = long_text.encode()
median = statistics.median(timed([binary, "explain"], stdin=data) for _ in range(runs))
print(f"mailtls explain: {len(data):,} bytes on stdin  median {median*1000:6.2f} ms  "
      f"({median/reference:.2f}x start-up; goal under 10 ms)")
for name, data in logs.items():
    median = statistics.median(timed([binary, "explain"], stdin=data) for _ in range(runs))
    goal = "goal under 10 ms" if len(data) <= 64 * 1024 else "no goal: the input cap"
    print(f"mailtls explain: {name:<22} median {median*1000:6.2f} ms  "
          f"({median/reference:.2f}x start-up; {goal})")
PY
