#!/usr/bin/env python3
"""tests/thunderbird/account_setup.py - ask the real Thunderbird which servers its automatic
account set-up chooses for an e-mail address: the incoming (IMAP/POP3) and outgoing (SMTP)
server, port and connection security. The oracle of tests/servers/account_setup.rs; method and
findings in tests/thunderbird/README.md.

Python 3.11 standard library only (and oracle.py beside it). One headless Thunderbird, driven over
Marionette in its chrome context, runs for each address exactly what the account hub does
(chrome/messenger/content/messenger/accountcreation/views/email.mjs, #findConfig):
FindConfig.parallelAutoDiscovery(domain, address, signal); when that finds nothing,
GuessConfig.guessConfig(domain, progress, config with the local part as user name, "both",
signal); then AccountConfig.replaceVariables. It prints one JSON line per address, in order:

  {"address": "jane@example.test", "thunderbird": "153.8.0esr",
   "found_by": "discovery" | "guess" | null,        # null: nothing found, manual set-up
   "sub_source": "xml-from-isp-https", ...           # AccountConfig.subSource
   "incoming": {"type": "imap", "hostname": ..., "port": 993, "security": "tls"},
   "outgoing": {"type": "smtp", ...} | null,         # null: no SMTP server in the config
   "redirect": null | {"host": ..., "scheme": ...},  # Autodiscover asked to confirm a host
   "guess_error": null | "...", "tries": [...], "ms": 1234}

security is "tls" (SSL/TLS), "starttls" or "plain", as mailtls says it.

Where Thunderbird's network goes:
- Thunderbird runs in a mount namespace of its own (unshare -m) where /etc/resolv.conf is a
  bind-mounted file naming only --dns: the host names (getaddrinfo) and the MX and SRV records
  (DNS.sys.mjs, libresolv's res_search) are all asked of the lab's dnsmasq. Its `local=/test/`
  and `no-resolv` answer nothing outside the lab, so nothing leaves 127.0.0.0/8.
- mailnews.auto_config_url points at an HTTP server on 127.0.0.1 that answers GET /DOMAIN as
  live.thunderbird.net does (thunderbird/autoconfig tools/convert.py's layout): the file of the
  --ispdb directories that lists DOMAIN in a <domain> element, as text/xml (the first file in
  name order, the directories in the order given); without --ispdb, nothing.
- --root: the CA certificates the profile trusts (the lab CA), as oracle.py does.

Exit status: 0 every address answered; 3 some address could not be answered; 2 set-up failure.
"""
import argparse
import atexit
import http.server
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402  (the Marionette client, profile and process handling)

# The oracle's profile, but names resolve through the system resolver (the namespace's
# resolv.conf) instead of all going to localhost, and the ISP database is the local one.
SETUP_JS_PREFS = r'''
user_pref("network.dns.native-is-localhost", false);
user_pref("mailnews.auto_config_url", "%(ispdb_url)s");
user_pref("mailnews.auto_config.addons_url", "");
'''

ACCOUNT_JS = r'''
const a = arguments[0];
const done = arguments[arguments.length - 1];
const { FindConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/FindConfig.sys.mjs");
const { GuessConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/GuessConfig.sys.mjs");
const { AccountConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/AccountConfig.sys.mjs");
const psm = Cc["@mozilla.org/psm;1"].getService(Ci.nsINSSComponent);
const SECURITY = { 0: "plain", 2: "starttls", 3: "tls" };

function server(s) {
  if (!s || !s.hostname) return null;
  return { type: s.type, hostname: s.hostname, port: s.port,
           security: SECURITY[s.socketType] ?? String(s.socketType) };
}
function outgoing(config) {
  if (config.outgoing.useGlobalPreferredServer || config.incoming.useGlobalPreferredServer ||
      config.outgoing.existingServerKey) return null;
  return server(config.outgoing);
}

(async () => {
  const t0 = Date.now();
  // Nothing from the address before: no cached names, TLS sessions or HTTP answers.
  Services.dns.clearCache(true);
  psm.clearSSLExternalAndInternalSessionCache();
  try { Services.cache2.clear(); } catch (e) {}
  const [local, domain] = [a.address.slice(0, a.address.lastIndexOf("@")),
                           a.address.slice(a.address.lastIndexOf("@") + 1)];
  const out = { found_by: null, sub_source: null, incoming: null, outgoing: null,
                incoming_alternatives: [], redirect: null, guess_error: null, tries: [] };
  // email.mjs #findConfig: the discovery stream; a yielded redirect is the "send your
  // credentials to this host?" confirmation, answered yes as a user who goes on would.
  const abort = new AbortController();
  const stream = FindConfig.parallelAutoDiscovery(domain, a.address, abort.signal, undefined, "");
  let step = await stream.next();
  if (step.value && step.value.isRedirect) {
    out.redirect = { host: step.value.host, scheme: step.value.scheme };
    step = await stream.next({ acceptRedirect: true });
  }
  let config = step.value || null;
  if (config) out.found_by = "discovery";
  if (!config) {
    // email.mjs #findConfig, then #guessConfig: the local part as user name, both directions.
    const initial = new AccountConfig();
    initial.incoming.username = local;
    initial.outgoing.username = local;
    const guessAbort = new AbortController();
    try {
      config = await GuessConfig.guessConfig(domain, (type, hostname, port, socketType, ok) => {
        out.tries.push(`${type} ${hostname}:${port} ${SECURITY[socketType] ?? socketType}${ok ? " chosen" : ""}`);
      }, initial, "both", guessAbort.signal);
      out.found_by = "guess";
    } catch (e) {
      out.guess_error = String(e && e.message || e);
      config = null;
    }
  }
  if (config) {
    AccountConfig.replaceVariables(config, "Jane", a.address, "");
    out.sub_source = config.subSource || config.source || null;
    out.incoming = server(config.incoming);
    out.outgoing = outgoing(config);
    out.incoming_alternatives = (config.incomingAlternatives || []).map(server).filter(Boolean);
  }
  out.ms = Date.now() - t0;
  return out;
})().then(done, e => done({ outcome: "oracle_error", error: String(e), stack: e && e.stack }));
'''


def ispdb_index(directories):
    """Domain -> file bytes: every <domain> element of every file (tools/convert.py), the first
    file in name order winning, the directories in order; a file that does not parse is left
    out, as convert.py cannot convert it."""
    import xml.etree.ElementTree as ElementTree
    index = {}
    for directory in directories:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as f:
                    text = f.read(1 << 20)
                root = ElementTree.fromstring(text)
            except (OSError, ElementTree.ParseError):
                continue
            for domain in root.findall(".//domain"):
                if domain.text:
                    index.setdefault(domain.text.strip().lower(), text)
    return index


class IspdbHandler(http.server.BaseHTTPRequestHandler):
    """GET /DOMAIN: the file listing DOMAIN, as text/xml (as live.thunderbird.net serves
    https://live.thunderbird.net/autoconfig/v1.1/DOMAIN); anything else 404."""

    index = {}
    requests = []

    def do_GET(self):
        name = self.path.split("?")[0].lstrip("/").lower()
        IspdbHandler.requests.append(name)
        body = IspdbHandler.index.get(name)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_ispdb(directories):
    IspdbHandler.index = ispdb_index(directories)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IspdbHandler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("addresses", nargs="+", help="e-mail addresses")
    ap.add_argument("--expect-version", required=True, help="e.g. 153.8.0esr ('any' to skip the check)")
    ap.add_argument("--dns", required=True, help="the only name server (an IPv4 address, port 53)")
    ap.add_argument("--root", help="PEM file of CA certificates the profile trusts")
    ap.add_argument("--ispdb", action="append", default=[],
                    help="a directory of ISP database files (repeatable; the first listing a domain wins)")
    ap.add_argument("--thunderbird", help="Thunderbird binary (default /usr/lib/thunderbird/thunderbird)")
    ap.add_argument("--address-timeout", type=float, default=120.0, help="seconds per address")
    ap.add_argument("--startup-timeout", type=float, default=90.0)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep-profile", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if not re.fullmatch(r"127\.\d+\.\d+\.\d+", a.dns):
        oracle.fatal("--dns must be a loopback IPv4 address (the lab's name server)")
    for address in a.addresses:
        if address.count("@") != 1:
            oracle.fatal(f"not an e-mail address: {address}")
    for directory in a.ispdb:
        if not os.path.isdir(directory):
            oracle.fatal(f"--ispdb {directory}: not a directory")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, oracle.on_signal)
    atexit.register(oracle.cleanup_all)

    tb = oracle.find_thunderbird(a.thunderbird)
    for tool in ("unshare", "mount"):
        if not shutil.which(tool):
            oracle.fatal(f"{tool} not found (util-linux)")
    if a.root and not shutil.which("certutil"):
        oracle.fatal("certutil not found (apt-get install libnss3-tools)")
    workdir = a.workdir or tempfile.gettempdir()
    os.makedirs(workdir, exist_ok=True)
    version = oracle.check_version(tb, None if a.expect_version == "any" else a.expect_version, workdir)

    _httpd, ispdb_url = start_ispdb([os.path.abspath(d) for d in a.ispdb])
    resolv = tempfile.NamedTemporaryFile("w", prefix="tb-resolv-", suffix=".conf", dir=workdir, delete=False)
    resolv.write(f"nameserver {a.dns}\noptions timeout:2 attempts:1\n")
    resolv.close()
    atexit.register(lambda: os.path.exists(resolv.name) and os.unlink(resolv.name))
    # unshare execs sh, which execs Thunderbird: one pid, in the process group oracle.py kills.
    prefix = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
              'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv.name]
    user_js = oracle.USER_JS + SETUP_JS_PREFS % {"ispdb_url": ispdb_url}
    root = os.path.abspath(a.root) if a.root else None
    try:
        inst = oracle.Instance(tb, root, workdir, a.startup_timeout, a.keep_profile, a.verbose,
                               user_js=user_js, prefix=prefix)
    except Exception as e:
        oracle.cleanup_all()
        oracle.fatal(f"could not start Thunderbird: {e}")
    if a.expect_version != "any" and not a.expect_version.startswith(inst.info.get("version", "?")):
        oracle.cleanup_all()
        oracle.fatal(f"running Thunderbird reports version {inst.info.get('version')}, expected {a.expect_version}")
    failures = 0
    for address in a.addresses:
        t0 = time.monotonic()
        IspdbHandler.requests = []
        try:
            inst.m.call("WebDriver:SetTimeouts", {"script": int(a.address_timeout * 1000)}, timeout=10)
            r = inst.m.call("WebDriver:ExecuteAsyncScript",
                            {"script": ACCOUNT_JS, "args": [{"address": address}]},
                            timeout=a.address_timeout + 10)["value"]
            if not isinstance(r, dict):
                raise oracle.MarionetteError(f"script returned {r!r}")
        except (oracle.MarionetteError, TimeoutError, OSError) as e:
            r = {"outcome": "oracle_error", "error": f"{type(e).__name__}: {e}"}
        if r.get("outcome") == "oracle_error":
            failures += 1
        out = {"address": address, "thunderbird": version}
        out.update(r)
        out["ispdb_asked"] = list(IspdbHandler.requests)
        out["wall_s"] = round(time.monotonic() - t0, 2)
        print(json.dumps(out), flush=True)
    inst.stop()
    oracle.INSTANCES.remove(inst)
    sys.exit(3 if failures else 0)


if __name__ == "__main__":
    main()
