#!/usr/bin/python3
"""A scripted SMTP client for the end-to-end tests: one session, every step
printed as one line, so a test can tell exactly where a session was cut off.

  smtp_session.py --server ADDR [--src ADDR] [--rcpt R]... [--pause S]
                  [--ehlo N] [--noop N] [--data] [--timeout S]
                  [--starttls] [--pipeline] [--hold FILE]

Prints "connect ok|timeout|refused", then "<CMD> <code>" per command, or
"<CMD> timeout" where the server's reply never came (the session was cut
off), and exits 0; exit 2 on bad arguments. swaks is the client for ordinary
deliveries; this one pauses between recipients, as spam bots do, which makes
"banned inside its session" observable without racing the client.
--starttls: STARTTLS after EHLO (the rest is hidden from the wire);
--pipeline: MAIL, every RCPT, DATA and the body in one write (a burst that
beats any wire-level cut-off), then the replies read in order.
--hold FILE (repeatable): after RCPT N (N = 1 for the first --hold, 2
for the second ...), print "hold" and wait (up to 300 s) until FILE
exists: a session kept open across what the test does meanwhile.
"""
import argparse
import os
import socket
import ssl
import sys
import time


def reply(f):
    """Read one (possibly multi-line) SMTP reply; return its code."""
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return line[:3].decode("ascii", "replace")


def step(sock, f, name, data):
    if data:
        sock.sendall(data)
    try:
        code = reply(f)
    except socket.timeout:
        print(f"{name} timeout", flush=True)
        return None
    except (ConnectionError, OSError) as e:
        print(f"{name} closed ({e})", flush=True)
        return None
    print(f"{name} {code}", flush=True)
    return code


def message(a):
    return (f"From: <{a.sender}>\r\nSubject: relayguard e2e\r\n\r\n"
            "hello\r\n.\r\n").encode()


def burst(sock, f, a):
    """MAIL, RCPTs, DATA, body and QUIT in one write; one line per reply."""
    out = f"MAIL FROM:<{a.sender}>\r\n".encode()
    names = ["MAIL"]
    for r in a.rcpt:
        out += f"RCPT TO:<{r}>\r\n".encode()
        names.append("RCPT")
    out += b"DATA\r\n" + message(a) + b"QUIT\r\n"
    names += ["DATA", "EOM", "QUIT"]
    sock.sendall(out)
    for n in names:
        if step(sock, f, n, b"") is None:
            return


def connect(a, sport=0):
    """Connect from a.src (port sport) to a.server:25 with a.timeout and
    read the greeting, printing each step. Returns (socket, its file), or
    None where the session ended."""
    fam = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_STREAM)
    sock.settimeout(a.timeout)
    if a.src or sport:
        # SO_REUSEADDR: reusing the port of a session this host ended is
        # the point of --sport (the server closed first and holds TIME_WAIT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((a.src or "", sport))
    try:
        sock.connect((a.server, 25))
    except socket.timeout:
        print("connect timeout", flush=True)
        return None
    except OSError as e:
        print(f"connect refused ({e})", flush=True)
        return None
    print("connect ok", flush=True)
    f = sock.makefile("rb")
    if step(sock, f, "greeting", b"") is None:
        return None
    return sock, f


def session(a):
    conn = connect(a, a.sport)
    if conn is None:
        return
    sock, f = conn
    for _ in range(a.ehlo):  # N > 1: the server talks past the budget
        if step(sock, f, "EHLO", b"EHLO client.lab.test\r\n") is None:
            return
    for _ in range(a.noop):  # 500-byte NOOPs: the client pads its envelope
        if step(sock, f, "NOOP", b"NOOP " + b"x" * 500 + b"\r\n") is None:
            return
    if a.starttls:
        if step(sock, f, "STARTTLS", b"STARTTLS\r\n") != "220":
            return
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname=a.server)
        f = sock.makefile("rb")
        if step(sock, f, "EHLO", b"EHLO client.lab.test\r\n") is None:
            return
    if a.pipeline:
        burst(sock, f, a)
        return
    if step(sock, f, "MAIL", f"MAIL FROM:<{a.sender}>\r\n".encode()) is None:
        return
    accepted = 0
    for i, r in enumerate(a.rcpt):
        if i and a.pause:
            time.sleep(a.pause)
        if a.hold and 0 < i <= len(a.hold):
            hold(a.hold[i - 1])
        code = step(sock, f, "RCPT", f"RCPT TO:<{r}>\r\n".encode())
        if code is None:
            return
        accepted += code.startswith("2")
    if a.data and accepted:
        if step(sock, f, "DATA", b"DATA\r\n") != "354":
            return
        if step(sock, f, "EOM", message(a)) is None:
            return
    quit_session(sock, f)


def hold(path):
    print("hold", flush=True)
    deadline = time.monotonic() + 300
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def quit_session(sock, f):
    step(sock, f, "QUIT", b"QUIT\r\n")
    sock.close()


def client_arguments():
    """The arguments every scripted client takes."""
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--sender", default="bot@attacker.invalid")
    p.add_argument("--timeout", type=float, default=2.0)
    return p


def main():
    p = client_arguments()
    p.add_argument("--src")
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--rcpt", action="append", required=True)
    p.add_argument("--pause", type=float, default=0.0)
    p.add_argument("--ehlo", type=int, default=1)
    p.add_argument("--noop", type=int, default=0)
    p.add_argument("--data", action="store_true")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--pipeline", action="store_true")
    p.add_argument("--hold", action="append")
    session(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
