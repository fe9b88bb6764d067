"""The fidelity matrix's TLS servers: one OpenSSL (Python ssl) listener per case, all in one
process (started by tests/fidelity.rs).

Usage: tls_server.py CONFIG.json LOG

CONFIG is a JSON list of {"address", "port", "chain", "key", "tls", "ciphers"}: `chain` is a PEM
file with the server certificate first and then exactly what the server sends after it, in
that order (OpenSSL sends extra chain certificates as loaded, and builds no chain of its own
without a trust store); `tls` is "both", "1.2" or "1.3"; `ciphers` an OpenSSL cipher string or
null. Security level 0, so weak keys and SHA-1 chains are presented as they are.

After the handshake each connection gets an IMAP greeting and minimal answers (CAPABILITY,
LOGIN refused, LOGOUT), enough for mailtls, tstclnt, gnutls-cli and Thunderbird. Every
connection's outcome goes to LOG as one line: address, then "handshake ok", or the error (for a
client that refused the certificate, the TLS alert it sent). Prints "ready" when every listener
is up; a case that cannot be served stops the whole server with the reason (exit 1).
"""
import json
import os
import socket
import ssl
import sys
import threading

LOG_LOCK = threading.Lock()
# RFC 7919's ffdhe2048 group (tests/data/fidelity/ffdhe2048.pem).
DH_PARAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fidelity",
                         "ffdhe2048.pem")


def log(handle, line):
    with LOG_LOCK:
        handle.write(line + "\n")
        handle.flush()


def context_for(case):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # Security level 0 before the certificate is loaded: OpenSSL checks the key against it.
    context.set_ciphers(case.get("ciphers") or "DEFAULT:@SECLEVEL=0")
    if case["tls"] == "1.2":
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    elif case["tls"] == "1.3":
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.maximum_version = ssl.TLSVersion.TLSv1_3
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(case["chain"], case["key"])
    # Finite-field DH for the DHE suites (OpenSSL picks no group by itself here).
    context.load_dh_params(DH_PARAMS)
    return context


def imap(tls):
    tls.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fidelity ready\r\n")
    buffer = b""
    for _ in range(20):
        chunk = tls.recv(4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            words = line.strip().split(b" ")
            tag = words[0] if words and words[0] else b"*"
            command = words[1].upper() if len(words) > 1 else b""
            if command == b"CAPABILITY":
                tls.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            elif command in (b"LOGIN", b"AUTHENTICATE"):
                tls.sendall(tag + b" NO [AUTHENTICATIONFAILED] not here\r\n")
            elif command == b"LOGOUT":
                tls.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            else:
                tls.sendall(tag + b" BAD unknown\r\n")


def serve_connection(connection, context, address, handle):
    connection.settimeout(10)
    try:
        tls = context.wrap_socket(connection, server_side=True)
    except (ssl.SSLError, OSError) as error:
        log(handle, f"{address} {getattr(error, 'reason', None) or error}")
        connection.close()
        return
    log(handle, f"{address} handshake ok {tls.version()} {tls.cipher()[0]}")
    try:
        imap(tls)
    except (ssl.SSLError, OSError):
        pass
    finally:
        try:
            tls.close()
        except OSError:
            pass


def accept_loop(listener, context, address, handle):
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        threading.Thread(
            target=serve_connection, args=(connection, context, address, handle), daemon=True
        ).start()


def main():
    config, log_path = sys.argv[1:3]
    with open(config) as file:
        cases = json.load(file)
    handle = open(log_path, "a")
    listeners = []
    for case in cases:
        try:
            context = context_for(case)
        except (ssl.SSLError, OSError, ValueError) as error:
            print(f"cannot serve {case['address']}: {error}", file=sys.stderr, flush=True)
            sys.exit(1)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((case["address"], case["port"]))
        listener.listen(64)
        listeners.append((listener, context, case["address"]))
    for listener, context, address in listeners:
        threading.Thread(
            target=accept_loop, args=(listener, context, address, handle), daemon=True
        ).start()
    print("ready", flush=True)
    # Until the test kills it (or its standard input closes).
    sys.stdin.read()


if __name__ == "__main__":
    main()
