"""The lab's MTA-STS policy host (started by tests/lab/mod.rs, see tests/lab/mta_sts.rs).

Usage: mta_sts_server.py ADDRESS CERT KEY LOG

HTTPS on 443, answering GET /.well-known/mta-sts.txt by Host header (mta-sts.DOMAIN):
  sts-enforce.test    mode enforce, mx mail.good.test (text/plain, CRLF)
  sts-mismatch.test   mode enforce, mx mail.customer.test (whose certificate names
                      luna.hostingco.test only)
  sts-testing.test    mode testing, mx mail.customer.test (LF line ends)
  sts-deep.test       mode enforce, mx *.test: does not cover mail.good.test (two labels)
  sts-redirect.test   301 to https://www.sts-redirect.test/.well-known/mta-sts.txt (a name that
                      resolves here too: the log shows whether anyone followed)
  sts-missing.test    404
  sts-html.test       a valid policy served as text/html
  sts-large.test      a valid policy padded with comments-as-extensions to 70 KiB
  sts-maxage.test     max_age 31557601, over the limit
  sts-badcert.test    a valid policy, but this name is not on the certificate
  www.sts-redirect.test  the policy senders must not fetch
Everything else is 404. The log has a line per request: "HOST METHOD PATH".
"""
import http.server
import ssl
import sys


def policy(mode, mx, end="\r\n", max_age=604800, extra=""):
    lines = ["version: STSv1", "mode: " + mode]
    lines += ["mx: " + pattern for pattern in mx]
    lines.append("max_age: %d" % max_age)
    return (end.join(lines) + end + extra).encode()


PAD = "".join("x%05d: %s\r\n" % (n, "p" * 60) for n in range(1100))

ANSWERS = {
    "mta-sts.sts-enforce.test": (200, "text/plain", policy("enforce", ["mail.good.test"])),
    "mta-sts.sts-mismatch.test": (200, "text/plain", policy("enforce", ["mail.customer.test"])),
    "mta-sts.sts-testing.test": (
        200,
        "text/plain; charset=us-ascii",
        policy("testing", ["mail.customer.test"], end="\n"),
    ),
    "mta-sts.sts-deep.test": (200, "text/plain", policy("enforce", ["*.test"])),
    "mta-sts.sts-missing.test": (404, "text/plain", b"not found\n"),
    "mta-sts.sts-html.test": (200, "text/html", policy("enforce", ["mail.good.test"])),
    "mta-sts.sts-large.test": (200, "text/plain", policy("enforce", ["mail.good.test"], extra=PAD)),
    "mta-sts.sts-maxage.test": (
        200,
        "text/plain",
        policy("enforce", ["mail.good.test"], max_age=31557601),
    ),
    "mta-sts.sts-badcert.test": (200, "text/plain", policy("enforce", ["mail.good.test"])),
    "www.sts-redirect.test": (200, "text/plain", policy("enforce", ["mail.good.test"])),
}


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class Handler(http.server.BaseHTTPRequestHandler):
    def setup(self):
        # The TLS handshake in the request's thread, not in accept().
        self.request.settimeout(15)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        sys.stderr.write("%s GET %s\n" % (host, self.path))
        if host == "mta-sts.sts-redirect.test":
            self.send_response(301)
            self.send_header(
                "Location", "https://www.sts-redirect.test/.well-known/mta-sts.txt"
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, content_type, body = ANSWERS.get(host, (404, "text/plain", b"not found\n"))
        if self.path != "/.well-known/mta-sts.txt":
            status, content_type, body = 404, "text/plain", b"not found\n"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    address, cert, key, log = sys.argv[1:5]
    sys.stderr = open(log, "a", buffering=1)
    server = Server((address, 443), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
