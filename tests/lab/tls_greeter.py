"""A small implicit-TLS IMAP greeter for the serve tests (started by tests/servers/serve.rs).

Usage: tls_greeter.py ADDRESS PORT CERT KEY CHAIN

Accepts any number of connections at once (a thread each), completes the TLS handshake with
CERT (and the CA certificates in CHAIN), sends an IMAP greeting and answers LOGOUT; enough for
mailtls to probe it as a mail server. Unlike `openssl s_server`, one slow client does not hold
up the others.
"""
import socket
import socketserver
import ssl
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        try:
            tls = self.server.context.wrap_socket(self.request, server_side=True)
            tls.sendall(b"* OK [CAPABILITY IMAP4rev1] greeter ready\r\n")
            data = tls.recv(1024)
            if data:
                tag = data.split(b" ", 1)[0]
                tls.sendall(b"* BYE logging out\r\n" + tag + b" OK LOGOUT completed\r\n")
            tls.close()
        except (ssl.SSLError, OSError):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


def main():
    address, port, cert, key, chain = sys.argv[1:6]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # The leaf first, then the intermediate, as a server sends them.
    with open(cert) as leaf, open(chain) as rest, open(cert + ".chain.pem", "w") as both:
        both.write(leaf.read() + rest.read())
    context.load_cert_chain(cert + ".chain.pem", key)
    server = Server((address, int(port)), Handler)
    server.context = context
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
