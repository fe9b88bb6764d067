"""The lab's HTTPS server for autoconfig and autodiscover documents (started by tests/lab/mod.rs).

Usage: provisioning_server.py ADDRESS CERT KEY LOG [plain]

With `plain`, it serves plain HTTP on port 80 (CERT and KEY unused) and answers only:
  autoconfig.disc-http.test      a clientConfig naming mail.good.test with STARTTLS (143, 587)
  autoconfig.disc-text.test      the same
Otherwise HTTPS on 443, answering by Host header:
  autoconfig.disc-good.test      a clientConfig naming mail.good.test (which its certificate covers);
  disc-good.test                 the same at /.well-known/autoconfig/mail/config-v1.1.xml
  autoconfig.disc-badcert.test   the same document, but this name is not on the HTTPS certificate
  autoconfig.disc-bad.test       a clientConfig naming mail.%EMAILDOMAIN% (not on its certificate)
  autoconfig.disc-broken.test    malformed XML
  autoconfig.disc-loop.test      a redirect to itself
  autodiscover.disc-good.test    an autodiscover POX response naming mail.good.test (POST)
  autoconfig.cNNNN.hosted.test   a clientConfig naming mail.%EMAILDOMAIN% (the lab's fleet)
  autoconfig.disc-xss.test       a clientConfig naming <script>alert(1)</script> (escaped as XML)
  ispdb.test                     /v1.1/DOMAIN: the test ISP database (tests/data/ispdb) as
                                 live.thunderbird.net serves Mozilla's: the file listing DOMAIN
                                 in a <domain> element (tools/convert.py's layout), text/xml
  autoconfig.disc-text.test      a clientConfig naming mail.good.test, served as text/plain
  autoconfig.disc-malformed.test malformed XML
  disc-malformed.test            at /.well-known/autoconfig/mail/config-v1.1.xml, a clientConfig
                                 naming mail.good.test with STARTTLS (143, 587)
  autodiscover.disc-ad.test      an autodiscover POX response naming mail.good.test (POST): IMAP
                                 993 with <Encryption>TLS</Encryption>, SMTP 587 with SSL on
  (autoconfig.disc-http.test is served, but its name is not on the certificate)
Everything else is 404.

The log has a line per request ("HOST METHOD PATH ...") and, as each connection arrives, a line
"open N" with the connections open at that moment: what the server sees of a client's
politeness.
"""
import http.server
import ssl
import sys
import threading

OPEN = 0
OPEN_LOCK = threading.Lock()

CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="%(domain)s">
    <domain>%(domain)s</domain>
    <incomingServer type="imap">
      <hostname>%(host)s</hostname><port>993</port><socketType>SSL</socketType>
      <username>%%EMAILADDRESS%%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>%(host)s</hostname><port>465</port><socketType>SSL</socketType>
      <username>%%EMAILADDRESS%%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""

# The same provider over STARTTLS.
CONFIG_STARTTLS = (CONFIG.replace("<port>993</port><socketType>SSL", "<port>143</port><socketType>STARTTLS")
                   .replace("<port>465</port><socketType>SSL", "<port>587</port><socketType>STARTTLS"))

AUTODISCOVER_AD = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><AccountType>email</AccountType><Action>settings</Action>
      <Protocol><Type>IMAP</Type><Server>mail.good.test</Server><Port>993</Port><Encryption>TLS</Encryption></Protocol>
      <Protocol><Type>SMTP</Type><Server>mail.good.test</Server><Port>587</Port><SSL>on</SSL></Protocol>
    </Account>
  </Response>
</Autodiscover>
"""

# Set by main(): serving plain HTTP on port 80.
PLAIN = False

AUTODISCOVER = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><AccountType>email</AccountType><Action>settings</Action>
      <Protocol><Type>IMAP</Type><Server>mail.good.test</Server><Port>993</Port><SSL>on</SSL></Protocol>
      <Protocol><Type>SMTP</Type><Server>mail.good.test</Server><Port>465</Port><SSL>on</SSL></Protocol>
    </Account>
  </Response>
</Autodiscover>
"""


def ispdb_index():
    """Domain -> file text for tests/data/ispdb, as thunderbird/autoconfig's tools/convert.py
    writes it: every <domain> element of every file, the first file in name order winning;
    a file that does not parse is left out."""
    import os
    import xml.etree.ElementTree as ElementTree
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "ispdb")
    index = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                text = f.read()
            root = ElementTree.fromstring(text)
        except (OSError, ElementTree.ParseError):
            continue
        for domain in root.findall(".//domain"):
            index.setdefault(domain.text, text)
    return index


ISPDB = ispdb_index()


class Server(http.server.ThreadingHTTPServer):
    # A fleet scan fetches hundreds of documents at once: the default backlog of 5 drops
    # connections, and the clients' SYN retries then look like a server that does not answer.
    request_queue_size = 1024
    daemon_threads = True


class Handler(http.server.BaseHTTPRequestHandler):
    def setup(self):
        global OPEN
        if PLAIN:
            return super().setup()
        with OPEN_LOCK:
            OPEN += 1
            sys.stderr.write("open %d\n" % OPEN)
        # The TLS handshake runs here, in the request's thread, not in accept(): a slow client
        # must not hold up every other connection.
        self.request.settimeout(15)
        try:
            self.request.do_handshake()
            super().setup()
        except BaseException:
            # finish() does not run when setup() fails.
            with OPEN_LOCK:
                OPEN -= 1
            raise

    def finish(self):
        global OPEN
        if PLAIN:
            return super().finish()
        try:
            super().finish()
        finally:
            with OPEN_LOCK:
                OPEN -= 1

    def host(self):
        return (self.headers.get("Host") or "").split(":")[0].lower()

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host, path = self.host(), self.path.split("?")[0]
        if PLAIN:
            if host in ("autoconfig.disc-http.test", "autoconfig.disc-text.test") and path == "/mail/config-v1.1.xml":
                body = CONFIG_STARTTLS % {"domain": host.split(".", 1)[1], "host": "mail.good.test"}
                return self.answer(200, body.encode(), [("Content-Type", "text/xml")])
            return self.answer(404)
        if host == "ispdb.test":
            body = ISPDB.get(path[len("/v1.1/"):]) if path.startswith("/v1.1/") else None
            if body is None:
                return self.answer(404)
            return self.answer(200, body, [("Content-Type", "text/xml")])
        if host == "disc-malformed.test" and path == "/.well-known/autoconfig/mail/config-v1.1.xml":
            body = CONFIG_STARTTLS % {"domain": host, "host": "mail.good.test"}
            return self.answer(200, body.encode(), [("Content-Type", "text/xml")])
        if host == "disc-good.test" and path == "/.well-known/autoconfig/mail/config-v1.1.xml":
            body = CONFIG % {"domain": host, "host": "mail.good.test"}
            return self.answer(200, body.encode(), [("Content-Type", "text/xml")])
        if path != "/mail/config-v1.1.xml":
            return self.answer(404)
        if host == "autoconfig.disc-text.test":
            body = CONFIG % {"domain": "disc-text.test", "host": "mail.good.test"}
            return self.answer(200, body.encode(), [("Content-Type", "text/plain")])
        if host in ("autoconfig.disc-good.test", "autoconfig.disc-badcert.test", "autoconfig.disc-http.test"):
            domain = host.split(".", 1)[1]
            body = CONFIG % {"domain": domain, "host": "mail.good.test"}
        elif host == "autoconfig.disc-bad.test":
            body = CONFIG % {"domain": "disc-bad.test", "host": "mail.%EMAILDOMAIN%"}
        elif host.startswith("autoconfig.") and host.endswith(".hosted.test"):
            body = CONFIG % {"domain": host.split(".", 1)[1], "host": "mail.%EMAILDOMAIN%"}
        elif host == "autoconfig.disc-xss.test":
            body = CONFIG % {"domain": "disc-xss.test", "host": "&lt;script&gt;alert(1)&lt;/script&gt;"}
        elif host in ("autoconfig.disc-broken.test", "autoconfig.disc-malformed.test"):
            body = "<clientConfig><emailProvider><incomingServer type='imap'>"
        elif host == "autoconfig.disc-loop.test":
            return self.answer(302, headers=[("Location", "https://%s%s" % (host, self.path))])
        else:
            return self.answer(404)
        self.answer(200, body.encode(), [("Content-Type", "text/xml")])

    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), 65536)
        self.rfile.read(length)
        if PLAIN or self.path != "/autodiscover/autodiscover.xml":
            return self.answer(404)
        if self.host() == "autodiscover.disc-good.test":
            return self.answer(200, AUTODISCOVER.encode(), [("Content-Type", "text/xml")])
        if self.host() == "autodiscover.disc-ad.test":
            return self.answer(200, AUTODISCOVER_AD.encode(), [("Content-Type", "text/xml")])
        self.answer(404)

    def log_message(self, format, *args):
        host = self.host() if getattr(self, "headers", None) else "-"
        sys.stderr.write("%s %s\n" % (host, format % args))


def main():
    global PLAIN
    address, cert, key, log = sys.argv[1:5]
    PLAIN = sys.argv[5:6] == ["plain"]
    sys.stderr = open(log, "a", buffering=1)
    if PLAIN:
        Server((address, 80), Handler).serve_forever()
        return
    server = Server((address, 443), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
