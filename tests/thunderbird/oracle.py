#!/usr/bin/env python3
"""tests/thunderbird/oracle.py - ask the real Thunderbird what it does with a mail server's TLS
certificate. The tests' Thunderbird oracle (tests/fidelity.rs, tests/servers/oracles.rs); its
method, findings and timings are in tests/thunderbird/README.md.

Python 3.11 standard library only.  Runs every case through ONE headless Thunderbird
instance per distinct root file (normally exactly one instance) driven over Marionette, and
prints one JSON line per case on stdout (in input order).

Case file (JSON list; "-" = stdin):
  [{"id": "good/imap-993",          # optional, echoed back
    "ip": "127.0.0.20",             # where the server listens
    "port": 993,
    "protocol": "imap" | "smtp",
    "tls": "implicit" | "starttls",
    "name": "good.mail.test",       # host name Thunderbird connects to (resolved to ip)
    "root": "/path/roots.pem"       # CA roots (every certificate of the PEM file) trusted in
                                    # the profile (optional / null)
  }, ...]

Example:
  oracle.py --expect-version 153.8.0esr cases.json
Exit status: 0 all cases answered; 3 some case could not be answered (oracle_error lines);
2 setup failure (Thunderbird missing, wrong version, certutil missing, start-up failed).
"""
import argparse
import atexit
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_TB_CANDIDATES = ["/usr/lib/thunderbird/thunderbird", "thunderbird"]

USER_JS = r'''// Throwaway profile written by tests/thunderbird/oracle.py
user_pref("marionette.port", 0);
user_pref("mail.shell.checkDefaultClient", false);
user_pref("mail.shell.checkDefaultMail", false);
user_pref("mail.provider.enabled", false);
user_pref("mail.startup.enabledMailCheckOnce", true);
user_pref("mail.rights.version", 1);
user_pref("mailnews.start_page.enabled", false);
user_pref("mail.spotlight.firstRunDone", true);
user_pref("app.donation.eoy.version.viewed", 999);
user_pref("mail.inappnotifications.enabled", false);
user_pref("mail.biff.show_alert", false);
user_pref("mail.biff.play_sound", false);
user_pref("messenger.startup.action", 0);
user_pref("mail.server.default.check_new_mail", false);
user_pref("mail.server.default.login_at_startup", false);
user_pref("mail.server.default.autosync_offline_stores", false);
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.update.checkInstallTime", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.update.autoUpdateDefault", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("extensions.systemAddon.update.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.server", "");
user_pref("app.update.timerFirstInterval", 86400000);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("browser.safebrowsing.provider.google4.updateURL", "");
user_pref("browser.safebrowsing.provider.google.updateURL", "");
user_pref("browser.region.network.url", "");
user_pref("browser.region.update.enabled", false);
user_pref("mail.cloud_files.enabled", false);
user_pref("calendar.integration.notify", false);
user_pref("network.proxy.type", 0);
// DNS: every name that is not mapped by the per-case nsINativeDNSResolverOverride entry
// resolves to localhost, so nothing ever leaves 127.0.0.0/8 (e.g. remote-settings polls).
user_pref("network.dns.native-is-localhost", true);
user_pref("network.trr.mode", 5);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.predictor.enabled", false);
'''

# JavaScript run in Thunderbird's chrome context (WebDriver:ExecuteAsyncScript).
# arguments[0] = case dict (+ timeout_ms, try_override); last argument = Marionette callback.
CASE_JS = r'''
const c = arguments[0];
const done = arguments[arguments.length - 1];
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const { SmtpClient } = ChromeUtils.importESModule("resource:///modules/SmtpClient.sys.mjs");
const { setTimeout, clearTimeout } = ChromeUtils.importESModule("resource://gre/modules/Timer.sys.mjs");
const nss = Cc["@mozilla.org/nss_errors_service;1"].getService(Ci.nsINSSErrorsService);
const dnsOverride = Cc["@mozilla.org/network/native-dns-override;1"].getService(Ci.nsINativeDNSResolverOverride);
const overrides = Cc["@mozilla.org/security/certoverride;1"].getService(Ci.nsICertOverrideService);
const psm = Cc["@mozilla.org/psm;1"].getService(Ci.nsINSSComponent);
const CATEGORY = ["none", "trust", "domain", "time"];
const log = [];

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("timeout: " + what)), ms); }),
  ]).finally(() => clearTimeout(timer));
}
function resultName(rv) {
  try { const n = new Components.Exception("", rv).name; if (n) return n; } catch (e) {}
  return "0x" + (rv >>> 0).toString(16);
}
function isNssResult(rv) {
  // NS_ERROR_MODULE_SECURITY (21) + NS_ERROR_MODULE_BASE_OFFSET (0x45) = 0x5a
  return ((rv >>> 16) & 0x1fff) == 0x5a && (rv >>> 31) == 1;
}
function purgeRememberedCerts() {
  // Gecko remembers intermediates: SaveIntermediateCerts() imports the intermediates of
  // every successfully verified chain into cert9.db, and certificates still referenced
  // from earlier connections live on as NSS temporary certs.  Either would let a later
  // case build a chain through an intermediate its server never sent.  So: collect
  // garbage and delete every non-built-in certificate except this case's root.
  Cu.forceGC(); Cu.forceCC(); Cu.forceGC();
  const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  const removed = [];
  for (const cert of certdb.getCerts()) {
    let token = "", fp = "";
    try { token = cert.tokenName; fp = cert.sha256Fingerprint; } catch (e) { continue; }
    if (token == "Builtin Object Token" || (c.root_sha256s || []).includes(fp)) continue;
    try { removed.push(cert.subjectName); certdb.deleteCertificate(cert); } catch (e) {}
  }
  return removed;
}
function certInfo(cert) {
  try { return { subject: cert.subjectName, issuer: cert.issuerName, sha256: cert.sha256Fingerprint }; }
  catch (e) { return null; }
}

async function runImap(port) {
  const server = MailServices.accounts.createIncomingServer(
    "oracle" + Date.now() + Math.floor(Math.random() * 1e6), c.name, "imap");
  try {
    server.port = port;
    server.socketType = c.tls == "implicit" ? Ci.nsMsgSocketType.SSL : Ci.nsMsgSocketType.alwaysSTARTTLS;
    server.authMethod = Ci.nsMsgAuthMethod.passwordCleartext;
    server.password = "oracle-password";
    const r = await withTimeout(new Promise(resolve => {
      server.verifyLogon({
        OnStartRunningUrl() {},
        OnStopRunningUrl(url, status) {
          let secInfo = null, errorMessage = "";
          try { url.QueryInterface(Ci.nsIMsgMailNewsUrl); secInfo = url.failedSecInfo; errorMessage = url.errorMessage; } catch (e) {}
          resolve({ status, secInfo, errorMessage });
        },
        QueryInterface: ChromeUtils.generateQI(["nsIUrlListener"]),
      }, null);  // no msgWindow: nothing can prompt
    }), c.timeout_ms, "imap verifyLogon");
    return r;
  } finally {
    try { server.closeCachedConnections(); } catch (e) {}
    try { MailServices.accounts.removeIncomingServer(server, true); } catch (e) {}
  }
}

async function runSmtp(port) {
  const server = MailServices.outgoingServer.createServer("smtp");
  let client = null;
  try {
    const smtp = server.QueryInterface(Ci.nsISmtpServer);
    smtp.hostname = c.name;
    smtp.port = port;
    server.socketType = c.tls == "implicit" ? Ci.nsMsgSocketType.SSL : Ci.nsMsgSocketType.alwaysSTARTTLS;
    // No SMTP AUTH: TLS (implicit or STARTTLS) completes before AUTH, and a failed AUTH
    // would open a password prompt.
    server.authMethod = Ci.nsMsgAuthMethod.none;
    // Thunderbird's own SMTP client (the one used to send mail). "onidle" = connected,
    // TLS done, EHLO (again after STARTTLS) done.
    client = new SmtpClient(server.wrappedJSObject);
    const r = await withTimeout(new Promise(resolve => {
      let settled = false;
      const finish = v => { if (!settled) { settled = true; resolve(v); } };
      client.onidle = () => finish({ status: 0, secInfo: null, errorMessage: "" });
      client.onerror = (status, errorMessage, secInfo) => finish({ status, secInfo, errorMessage });
      client.connect();
      // Watch the TCPSocket too: in some failures SmtpClient never calls onerror (the
      // socket closes without an error event, or SmtpClient._onError throws).
      const sock = client.socket;
      let sockError = null;
      sock.addEventListener("error", e => { sockError = e.errorCode; });
      sock.addEventListener("close", () => {
        setTimeout(async () => {
          if (settled) return;
          let secInfo = null;
          try {
            secInfo = await withTimeout(
              sock.transport?.tlsSocketControl?.asyncGetSecurityInfo() ?? Promise.resolve(null),
              1000, "asyncGetSecurityInfo");
          } catch (e) {}
          finish({ status: sockError, secInfo, errorMessage: "", silent: true });
        }, 300);
      });
    }), c.timeout_ms, "smtp connect");
    return r;
  } finally {
    try { client && client.close(true); } catch (e) {}
    try { server.closeCachedConnections(); } catch (e) {}
    try { MailServices.outgoingServer.deleteServer(server); } catch (e) {}
  }
}

function nssInfo(rv) {
  const o = {};
  try { o.error = nss.getErrorName(rv); } catch (e) {}
  try {
    o.error_class = nss.getErrorClass(rv) == Ci.nsINSSErrorsService.ERROR_CLASS_BAD_CERT ? "bad_cert" : "ssl_protocol";
  } catch (e) {}
  try { o.overridable = nss.isErrorOverridable(rv); } catch (e) {}
  return o;
}

async function tlsProbe() {
  // Independent check with Thunderbird's own socket stack (TCPSocket = the transport
  // SmtpClient uses; same NSS, cert DB, prefs and CertVerifier): speak just enough of the
  // protocol to reach TLS, then report whether the handshake + certificate were accepted.
  // Used only when the protocol code failed WITHOUT a TLS error (e.g. IMAP LOGIN refused).
  const sock = new TCPSocket(c.name, c.port, { binaryType: "arraybuffer", useSecureTransport: c.tls == "implicit" });
  let buf = "", waiters = [], secure = c.tls == "implicit", failed = null;
  const wake = () => { const w = waiters; waiters = []; w.forEach(f => f()); };
  sock.ondata = e => { buf += new TextDecoder().decode(e.data); wake(); };
  sock.onerror = e => { failed = failed || { errorCode: e.errorCode, name: e.name }; wake(); };
  sock.onclose = () => { failed = failed || { closed: true }; wake(); };
  const until = async (pred, what) => {
    while (!pred()) {
      if (failed) throw failed;
      await withTimeout(new Promise(r => waiters.push(r)), c.timeout_ms, "tls probe " + what);
    }
  };
  const lineDone = re => () => re.test(buf);
  const send = t => sock.send(new TextEncoder().encode(t).buffer);
  try {
    if (c.tls == "starttls") {
      if (c.protocol == "imap") {
        await until(lineDone(/\r\n/), "greeting"); buf = "";
        send("P1 STARTTLS\r\n"); await until(lineDone(/^P1 .*\r\n/m), "STARTTLS");
        if (!/^P1 OK/m.test(buf)) return { tls: "not_offered", detail: buf.trim().slice(0, 200) };
      } else {
        await until(lineDone(/^220 .*\r\n/m), "greeting"); buf = "";
        send("EHLO oracle\r\n"); await until(lineDone(/^250 .*\r\n/m), "EHLO"); buf = "";
        send("STARTTLS\r\n"); await until(lineDone(/^\d{3} .*\r\n/m), "STARTTLS");
        if (!/^220 /m.test(buf)) return { tls: "not_offered", detail: buf.trim().slice(0, 200) };
      }
      buf = "";
      sock.upgradeToSecure();
      send(c.protocol == "imap" ? "P2 CAPABILITY\r\n" : "EHLO oracle\r\n");
    }
    // Application data only arrives after a successful handshake and certificate check.
    await until(() => buf.length > 0, "TLS data");
    return { tls: "ok" };
  } catch (e) {
    if (e && e.errorCode !== undefined) {
      let secInfo = null;
      try {
        secInfo = await withTimeout(sock.transport?.tlsSocketControl?.asyncGetSecurityInfo() ?? Promise.resolve(null), 1000, "secinfo");
      } catch (x) {}
      return { tls: "error", status: e.errorCode, secInfo };
    }
    if (e && e.closed) return { tls: "closed" };
    return { tls: "error", detail: String(e) };
  } finally {
    try { sock.close(); } catch (e) {}
  }
}

function describe(r) {
  const out = {};
  if (r.status === null || r.status === undefined) {
    out.status = null;
    out.status_name = "none: SmtpClient reported neither success nor error (socket closed)";
  } else {
    out.status = "0x" + (r.status >>> 0).toString(16);
    out.status_name = resultName(r.status);
  }
  const si = r.secInfo;
  let secCode = 0;
  if (si) {
    try { secCode = si.errorCode; } catch (e) {}
    try { out.sec_error = si.errorCodeString; } catch (e) {}
    try { out.override_category = CATEGORY[si.overridableErrorCategory] ?? String(si.overridableErrorCategory); } catch (e) {}
    try { out.chain = si.handshakeCertificates.map(x => x.subjectName); } catch (e) { out.chain = "unreadable: " + e.name; }
    try { out.server_cert = si.serverCert ? certInfo(si.serverCert) : null; } catch (e) {}
  }
  if (r.status === 0 && !r.silent) {
    out.outcome = "accepted";
  } else if (isNssResult(r.status)) {
    out.outcome = "rejected";
    Object.assign(out, nssInfo(r.status));
  } else if (secCode) {
    // The TLS layer recorded a failure, but the protocol code surfaced another status
    // (seen: NS_ERROR_CONNECTION_REFUSED racing the NSS error on TCPSocket, or nothing).
    out.outcome = "rejected";
    out.error = out.sec_error;
    out.status_differs = true;
    let rv = null;
    try { rv = nss.getXPCOMFromNSSError(secCode); } catch (e) {}
    if (rv !== null) Object.assign(out, nssInfo(rv), { error: out.sec_error });
    else { out.error_class = null; out.overridable = false; }
  } else {
    // Not a TLS failure: connection refused, closed, auth failure after TLS, ...
    out.outcome = "error";
    out.error = out.status_name;
  }
  if (r.errorMessage) out.error_message = r.errorMessage;
  return out;
}

function chainKeys(secInfo, permKeys) {
  // dbKeys (issuer+serial) of the non-leaf certificates the server sent.
  const keys = [];
  try {
    for (const x of secInfo.handshakeCertificates.slice(1)) {
      try { if (!permKeys.has(x.dbKey)) keys.push(x.dbKey); } catch (e) {}
    }
  } catch (e) {}
  return keys;
}

async function forgetTempCerts(keys) {
  // NSS keeps certificates from a handshake as "temporary certs" for as long as anything
  // (TCPSocket/transport/TransportSecurityInfo of a failed connection) references them,
  // and path building for LATER connections finds them.  Collect garbage until NSS no
  // longer finds this case's intermediates (looked up by issuer+serial).
  const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  for (let round = 1; round <= 40; round++) {
    Cu.forceGC(); Cu.forceCC(); Cu.forceGC();
    const left = keys.filter(k => { try { return !!certdb.findCertByDBKey(k); } catch (e) { return false; } });
    if (!left.length) return round;
    await new Promise(res => setTimeout(res, 25));
  }
  return -1;
}

(async () => {
  const t0 = Date.now();
  // Per-case hygiene: name -> ip mapping only for this case; no TLS session reuse;
  // no certificates remembered from earlier cases.
  dnsOverride.clearOverrides();
  Services.dns.clearCache(true);
  // The name as typed, and as Thunderbird resolves it (lower case, A-labels, no trailing
  // dot): every form goes to the case's address.
  if (!/^[0-9.]+$/.test(c.name)) {
    for (const name of c.dns_names) dnsOverride.addIPOverride(name, c.ip);
  }
  psm.clearSSLExternalAndInternalSessionCache();
  const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  certdb.clearOCSPCache();  // OCSP results (incl. soft-fail) are cached per instance
  const purged = c.no_purge ? [] : purgeRememberedCerts();
  const permKeys = new Set();
  for (const x of certdb.getCerts()) { try { permKeys.add(x.dbKey); } catch (e) {} }
  const run = c.protocol == "imap" ? runImap : runSmtp;
  let r, res;
  try {
    r = await run(c.port);
    res = describe(r);
  } catch (e) {
    // The mail code never answered (a server that waits after LOGIN, say): whether TLS itself
    // succeeded is then asked of the TCPSocket probe below, as for a plain protocol error.
    if (!String(e).includes("timeout: ")) throw e;
    r = { secInfo: null };
    res = { outcome: "error", error: String(e) };
  }
  const keys = chainKeys(r.secInfo, permKeys);
  if (res.outcome == "error" && !r.secInfo) {
    // The protocol code failed without any TLS error. Did TLS itself succeed?
    const p = await tlsProbe();
    res.protocol_error = res.error;
    if (p.tls == "ok") {
      res.outcome = "accepted";
      res.error = null;
      res.note = `TLS and certificate accepted (checked with a TCPSocket probe); Thunderbird's ${c.protocol.toUpperCase()} code then failed with ${res.protocol_error}`;
    } else if (p.tls == "error" && (p.secInfo || p.status !== undefined) &&
               describe({ status: p.status, secInfo: p.secInfo }).outcome == "rejected") {
      const d = describe({ status: p.status, secInfo: p.secInfo });
      keys.push(...chainKeys(p.secInfo, permKeys));
      res = Object.assign(d, { protocol_error: res.protocol_error, status: res.status, status_name: res.status_name,
                               note: "verdict from a TCPSocket TLS probe; the protocol code reported " + res.protocol_error });
    } else {
      res.tls_probe = p.tls + (p.detail ? ": " + p.detail : "") +
        (p.status !== undefined ? ": " + resultName(p.status) : "");
    }
  }
  if (c.try_override && r && r.secInfo && r.secInfo.serverCert &&
      ((res.override_category && res.override_category != "none") || res.error_class == "bad_cert")) {
    // Also tried for bad_cert errors without an override category (the account-setup
    // wizard opens the exception dialog for every ERROR_CLASS_BAD_CERT error).
    // What the "Add Security Exception" dialog does (exceptionDialog.js addException):
    // rememberValidityOverride(host, port, {}, cert, temporary) - then connect again.
    overrides.rememberValidityOverride(c.name, c.port, {}, r.secInfo.serverCert, true);
    r = null;
    try {
      psm.clearSSLExternalAndInternalSessionCache();
      let r2 = await run(c.port);
      const d2 = describe(r2);
      keys.push(...chainKeys(r2.secInfo, permKeys));
      r2 = null;
      res.after_override = d2.outcome == "accepted" ? "accepted" : (d2.error || d2.outcome);
    } finally {
      overrides.clearValidityOverride(c.name, c.port, {});
    }
  }
  r = null;
  res.ms = Date.now() - t0;
  if (!c.no_purge) {
    psm.clearSSLExternalAndInternalSessionCache();
    const rounds = await forgetTempCerts(keys);
    if (rounds < 0) res.isolation_warning = "intermediates of this case still known to NSS after cleanup";
    res.cleanup_ms = Date.now() - t0 - res.ms;
  }
  if (purged.length) res.purged_before = purged;
  dnsOverride.clearOverrides();
  return res;
})().then(done, e => done(String(e).includes("timeout: ")
  ? { outcome: "timeout", error: String(e), ms: c.timeout_ms }
  : { outcome: "oracle_error", error: String(e), stack: e && e.stack }));
'''

INFO_JS = r'''
const done = arguments[arguments.length - 1];
done({ version: Services.appinfo.version, name: Services.appinfo.name,
       buildID: Services.appinfo.appBuildID, nss: (() => { try { return Cc["@mozilla.org/security/nssversion;1"].getService(Ci.nsINSSVersion).NSS_Version; } catch (e) { return null; } })() });
'''


def fatal(msg, code=2):
    print(f"oracle: FATAL: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def warn(msg):
    print(f"oracle: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- Marionette
class MarionetteError(Exception):
    pass


class Marionette:
    """Marionette protocol 3: frames are b"<len>:<json>"; commands [0,id,name,params],
    replies [1,id,error,result]; the server first sends a hello frame."""

    def __init__(self, host, port, timeout, trace=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.msgid = 0
        self.trace = trace
        self.hello = self._recv(timeout)
        self._trace("<-", self.hello)
        if self.hello.get("marionetteProtocol") != 3:
            raise MarionetteError(f"unexpected hello {self.hello!r}")

    def _recv(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            m = re.match(rb"(\d+):", self.buf)
            if m:
                n, start = int(m.group(1)), m.end()
                if len(self.buf) >= start + n:
                    frame, self.buf = self.buf[start:start + n], self.buf[start + n:]
                    return json.loads(frame)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Marionette reply timed out")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise MarionetteError("Marionette connection closed")
            self.buf += data

    def _trace(self, direction, msg):
        if self.trace:
            def short(v):
                if isinstance(v, str) and len(v) > 120:
                    return v[:60] + f"...<{len(v)} chars>"
                if isinstance(v, dict):
                    return {k: short(x) for k, x in v.items()}
                if isinstance(v, list):
                    return [short(x) for x in v]
                return v
            with open(self.trace, "a") as f:
                f.write(f"{direction} {json.dumps(short(msg))}\n")

    def call(self, name, params=None, timeout=30.0):
        self.msgid += 1
        self._trace("->", [0, self.msgid, name, params or {}])
        data = json.dumps([0, self.msgid, name, params or {}]).encode()
        self.sock.settimeout(timeout)
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(max(0.01, deadline - time.monotonic()))
            if isinstance(msg, list) and len(msg) == 4 and msg[0] == 1 and msg[1] == self.msgid:
                self._trace("<-", msg)
                if msg[2]:
                    err = msg[2]
                    raise MarionetteError(f'{err.get("error")}: {err.get("message")}')
                return msg[3]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------- Thunderbird
def find_thunderbird(path):
    cands = [path] if path else DEFAULT_TB_CANDIDATES
    for c in cands:
        p = c if os.path.isabs(c) else shutil.which(c)
        if p and os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    fatal(f"Thunderbird not found (tried {cands}); install it with: apt-get install "
          f"--no-install-recommends thunderbird")


def tb_env(home):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MOZ_MARIONETTE", "MOZ_REMOTE_SETTINGS_DEVTOOLS")}
    env.update(HOME=home, MOZ_HEADLESS="1", MOZ_CRASHREPORTER_DISABLE="1",
               MOZ_DISABLE_AUTO_SAFE_MODE="1", XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local/share"),
               TMPDIR=home)
    return env


def check_version(tb, expected, workdir):
    home = tempfile.mkdtemp(prefix="vhome-", dir=workdir)
    try:
        out = subprocess.run([tb, "--version"], capture_output=True, text=True, timeout=60,
                             env=tb_env(home), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        fatal(f"'{tb} --version' did not answer within 60 s")
    m = re.search(r"Thunderbird\s+(\S+)", out.stdout)
    if not m:
        fatal(f"cannot parse version from '{tb} --version': {out.stdout!r} {out.stderr[-300:]!r}")
    got = m.group(1)
    if expected is not None and got != expected:
        fatal(f"Thunderbird version is {got}, expected {expected} (binary {tb})")
    return got


def tree_memory_kb(pgid):
    """Sum RSS and PSS (kB) of all processes in the process group."""
    rss = pss = 0
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[2]) != pgid:
                continue
            n += 1
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return {"processes": n, "rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1)}


class Instance:
    def __init__(self, tb, root, workdir, startup_timeout, keep, verbose, user_js=None, prefix=()):
        """`user_js`: the profile's prefs (default USER_JS); `prefix`: a command Thunderbird is
        started under (account_setup.py runs it in a mount namespace)."""
        self.tb, self.root, self.keep, self.verbose = tb, root, keep, verbose
        self.dir = tempfile.mkdtemp(prefix="tbo-", dir=workdir)
        self.profile = os.path.join(self.dir, "profile")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.profile)
        os.makedirs(self.home)
        self.proc = None
        self.m = None
        t0 = time.monotonic()
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            f.write(USER_JS if user_js is None else user_js)
        if root:
            # Every certificate of the PEM file is a root trusted for servers (certutil -A
            # reads only the first certificate of a file, so each gets a file of its own).
            cmds = [["certutil", "-N", "-d", "sql:" + self.profile, "--empty-password"]]
            for i, der in enumerate(pem_certificates(root)):
                path = os.path.join(self.dir, f"root{i}.der")
                with open(path, "wb") as f:
                    f.write(der)
                cmds.append(["certutil", "-A", "-d", "sql:" + self.profile, "-n", f"caseroot{i}",
                             "-t", "C,,", "-i", path])
            for cmd in cmds:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                if r.returncode != 0:
                    raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
        self.logpath = os.path.join(self.dir, "thunderbird.log")
        self.proc = subprocess.Popen(
            [*prefix, tb, "--headless", "--marionette", "-remote-allow-system-access",
             "-profile", self.profile, "-no-remote"],
            env=tb_env(self.home), stdin=subprocess.DEVNULL, stdout=open(self.logpath, "w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        INSTANCES.append(self)
        portfile = os.path.join(self.profile, "MarionetteActivePort")
        deadline = t0 + startup_timeout
        port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Thunderbird exited during start-up (rc={self.proc.returncode}); "
                                   f"log tail: {self.log_tail()}")
            try:
                txt = open(portfile).read().strip()
                if txt:
                    port = int(txt)
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        if port is None:
            raise RuntimeError(f"no MarionetteActivePort after {startup_timeout}s; log tail: {self.log_tail()}")
        while True:
            try:
                self.m = Marionette("127.0.0.1", port, timeout=max(1.0, deadline - time.monotonic()),
                                    trace=TRACE_FILE)
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        left = lambda: max(1.0, deadline - time.monotonic())
        self.m.call("WebDriver:NewSession", {"capabilities": {}}, timeout=left())
        self.m.call("Marionette:SetContext", {"value": "chrome"}, timeout=left())
        self.info = self.m.call("WebDriver:ExecuteAsyncScript", {"script": INFO_JS, "args": []},
                                timeout=left())["value"]
        self.startup_s = time.monotonic() - t0

    def log_tail(self):
        try:
            lines = [l for l in open(self.logpath, errors="replace").read().splitlines()
                     if "Gtk-CRITICAL" not in l and "gtk_icon_theme" not in l and l.strip()]
            return " | ".join(lines[-8:])
        except OSError:
            return ""

    def run_case(self, case, timeout_s, try_override, no_purge=False):
        args = dict(case, timeout_ms=int(timeout_s * 1000), try_override=try_override, no_purge=no_purge)
        # Script timeout a bit above the in-script timeouts (override retry = 2 connections).
        budget = timeout_s * (2 if try_override else 1) + 5
        self.m.call("WebDriver:SetTimeouts", {"script": int(budget * 1000)}, timeout=10)
        return self.m.call("WebDriver:ExecuteAsyncScript",
                           {"script": CASE_JS, "args": [args]}, timeout=budget + 5)["value"]

    def memory(self):
        return tree_memory_kb(self.proc.pid) if self.proc and self.proc.poll() is None else None

    def stop(self):
        if self.m:
            try:
                self.m.call("Marionette:Quit", {"flags": ["eForceQuit"]}, timeout=5)
            except Exception:
                pass
            self.m.close()
            self.m = None
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            # Thunderbird was started in its own session, so its process group id is its
            # pid: kill whatever is left of that group (main process and its children).
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                warn(f"Thunderbird pid {self.proc.pid} did not die")
            self.proc = None
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.verbose:
            warn(f"kept {self.dir}")


INSTANCES = []
TRACE_FILE = None


def cleanup_all():
    for inst in list(INSTANCES):
        try:
            inst.stop()
        except Exception:
            pass
        INSTANCES.remove(inst)


def on_signal(signum, _frame):
    cleanup_all()
    sys.exit(128 + signum)


def pem_certificates(path):
    """The DER of every certificate in a PEM file."""
    txt = open(path).read()
    found = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", txt, re.S)
    if not found:
        fatal(f"{path}: no PEM certificate")
    return [base64.b64decode("".join(body.split())) for body in found]


def pem_sha256s(path):
    """SHA-256 fingerprints (AA:BB:.. upper hex, as nsIX509Cert.sha256Fingerprint) of the
    certificates of a PEM file."""
    import hashlib
    return [":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
            for der in pem_certificates(path)]


def dns_form(name):
    """The name as a resolver sees it: lower case, IDNA A-labels, no trailing dot."""
    name = name.rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def load_cases(path):
    try:
        data = json.load(sys.stdin if path == "-" else open(path))
    except (OSError, ValueError) as e:
        fatal(f"cannot read cases from {path}: {e}")
    if isinstance(data, dict):
        data = [data]
    cases = []
    for i, c in enumerate(data):
        try:
            case = {"id": str(c.get("id", i)), "ip": str(c["ip"]), "port": int(c["port"]),
                    "protocol": c["protocol"].lower(), "tls": c["tls"].lower(), "name": str(c["name"]),
                    "root": c.get("root")}
        except (KeyError, AttributeError, TypeError, ValueError) as e:
            fatal(f"case #{i} is malformed ({e!r}): {c!r}")
        if case["protocol"] not in ("imap", "smtp"):
            fatal(f"case {case['id']}: protocol must be imap or smtp")
        if case["tls"] not in ("implicit", "starttls"):
            fatal(f"case {case['id']}: tls must be implicit or starttls")
        if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", case["ip"]):
            fatal(f"case {case['id']}: ip must be an IPv4 literal")
        case["dns_names"] = sorted({case["name"], dns_form(case["name"])})
        case["root_sha256s"] = []
        if case["root"]:
            case["root"] = os.path.abspath(case["root"])
            if not os.path.isfile(case["root"]):
                fatal(f"case {case['id']}: root {case['root']} not found")
            case["root_sha256s"] = pem_sha256s(case["root"])
        cases.append(case)
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="?", default="-", help="JSON case file, or - for stdin (default)")
    ap.add_argument("--expect-version",
                    help="exact version printed by 'thunderbird --version', e.g. 153.8.0esr "
                         "('any' to skip the check)")
    ap.add_argument("--thunderbird", help="Thunderbird binary (default /usr/lib/thunderbird/thunderbird)")
    ap.add_argument("--case-timeout", type=float, default=15.0, help="seconds per connection attempt")
    ap.add_argument("--startup-timeout", type=float, default=90.0)
    ap.add_argument("--try-override", action="store_true",
                    help="for overridable failures, add a temporary certificate exception "
                         "(as the exception dialog does) and connect again")
    ap.add_argument("--fresh-instance-per-case", action="store_true",
                    help="start a new Thunderbird for every case (slow, maximal isolation)")
    ap.add_argument("--no-purge", action="store_true",
                    help="do not forget remembered intermediates between cases (shows Thunderbird's "
                         "order-dependent behaviour; results then depend on case order)")
    ap.add_argument("--workdir", default=None, help="where temporary profiles go (default $TMPDIR)")
    ap.add_argument("--keep-profile", action="store_true")
    ap.add_argument("--stats", action="store_true", help="print timing/memory summary to stderr")
    ap.add_argument("--dump-js", action="store_true", help="print the chrome-context case script and exit")
    ap.add_argument("--trace", help="append the Marionette exchange (scripts abbreviated) to this file")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    global TRACE_FILE
    TRACE_FILE = a.trace
    if a.dump_js:
        print(CASE_JS.strip())
        return
    if not a.expect_version:
        fatal("--expect-version is required (e.g. 153.8.0esr, or 'any')")

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(cleanup_all)

    cases = load_cases(a.cases)
    tb = find_thunderbird(a.thunderbird)
    if any(c["root"] for c in cases) and not shutil.which("certutil"):
        fatal("certutil not found (apt-get install libnss3-tools)")
    workdir = a.workdir or tempfile.gettempdir()
    os.makedirs(workdir, exist_ok=True)
    version = check_version(tb, None if a.expect_version == "any" else a.expect_version, workdir)

    # One instance per distinct root (the root is put in cert9.db before start-up).
    groups = {}
    for idx, c in enumerate(cases):
        key = (c["root"], idx) if a.fresh_instance_per_case else (c["root"],)
        groups.setdefault(key, []).append(idx)

    results = [None] * len(cases)
    stats = {"version": version, "instances": [], "cases": len(cases)}
    next_to_print = 0
    failures = 0

    def flush_ready():
        nonlocal next_to_print
        while next_to_print < len(results) and results[next_to_print] is not None:
            print(json.dumps(results[next_to_print]), flush=True)
            next_to_print += 1

    for key, idxs in groups.items():
        root = key[0]
        pending = list(idxs)
        while pending:
            try:
                inst = Instance(tb, root, workdir, a.startup_timeout, a.keep_profile, a.verbose)
            except Exception as e:
                cleanup_all()
                fatal(f"could not start Thunderbird: {e}")
            if not a.expect_version == "any" and not a.expect_version.startswith(inst.info.get("version", "?")):
                cleanup_all()
                fatal(f"running Thunderbird reports version {inst.info.get('version')}, expected {a.expect_version}")
            ist = {"startup_s": round(inst.startup_s, 2), "case_s": [], "info": inst.info}
            stats["instances"].append(ist)
            tainted = False
            while pending and not tainted:
                i = pending.pop(0)
                c = cases[i]
                t0 = time.monotonic()
                try:
                    r = inst.run_case(c, a.case_timeout, a.try_override, a.no_purge)
                    if not isinstance(r, dict):
                        raise MarionetteError(f"script returned {r!r} (a dialog may have opened)")
                except (MarionetteError, TimeoutError, OSError) as e:
                    r = {"outcome": "oracle_error", "error": f"{type(e).__name__}: {e}"}
                    tainted = True  # do not trust this instance any more: restart for the rest
                dt = time.monotonic() - t0
                ist["case_s"].append(round(dt, 3))
                if r.get("outcome") == "oracle_error":
                    failures += 1
                out = {"id": c["id"], "protocol": c["protocol"], "tls": c["tls"], "name": c["name"],
                       "ip": c["ip"], "port": c["port"], "thunderbird": version}
                out.update(r)
                results[i] = out
                flush_ready()
            ist["memory"] = inst.memory()
            inst.stop()
            INSTANCES.remove(inst)
    flush_ready()
    if a.stats:
        allc = [x for ist in stats["instances"] for x in ist["case_s"]]
        stats["total_case_s"] = round(sum(allc), 2)
        stats["mean_case_s"] = round(sum(allc) / len(allc), 3) if allc else None
        print("oracle stats: " + json.dumps(stats), file=sys.stderr, flush=True)
    sys.exit(3 if failures else 0)


if __name__ == "__main__":
    main()
