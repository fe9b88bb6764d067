#!/usr/bin/env python3
"""The delivery lab's MTA-STS policy host (tests/lab/delivery/policy_host.rs writes its config).

    policy_host.py CONFIG.json

One HTTPS server on CONFIG's address, port 443. The certificate is chosen by SNI: `sni` maps a
name to its own certificate, every other name gets `default`. Answers come from `routes`:
HOST -> PATH -> {status, type, body, location}, the host taken from the Host header; anything
else is 404. Logs one line per answer to standard error: HOST PATH STATUS.
"""

import http.server
import json
import ssl
import sys


def context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        config = json.load(file)
    default = context(*config["default"])
    by_name = {name: context(*pair) for name, pair in config["sni"].items()}
    routes = config["routes"]

    def pick(sock, name, _ctx):
        if name in by_name:
            sock.context = by_name[name]

    default.sni_callback = pick

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_request(self, code="-", size="-"):
            # One line per answer, "HOST PATH STATUS": the test reads which policies were asked.
            host = (self.headers.get("Host") or "-").split(":")[0].lower()
            print(f"{host} {self.path} {int(code)}", file=sys.stderr, flush=True)

        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            answer = routes.get(host, {}).get(self.path)
            if answer is None:
                answer = {"status": 404, "type": "text/plain", "body": "not found\n"}
            body = answer.get("body", "").encode("utf-8")
            self.send_response(answer["status"])
            self.send_header("Content-Type", answer.get("type", "text/plain"))
            self.send_header("Content-Length", str(len(body)))
            if "location" in answer:
                self.send_header("Location", answer["location"])
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer((config["address"], 443), Handler)
    server.daemon_threads = True
    server.socket = default.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
