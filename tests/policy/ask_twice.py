#!/usr/bin/env python3
"""Ask the policy service twice about one client asking to relay, on one
connection, as whatever user runs this; print each answer's action line,
or "closed" when the service closed the connection without one.

usage: ask_twice.py inet:HOST:PORT|unix:PATH CLIENT_ADDRESS
"""
import socket
import sys


def connect(spec):
    kind, _, where = spec.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(where)
        return s
    host, _, port = where.rpartition(":")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=5)


def request(client, n):
    return ("request=smtpd_access_policy\nprotocol_state=RCPT\n"
            "client_address=%s\nclient_port=4000%d\nhelo_name=x.test\n"
            "sender=a@x.test\nrecipient=victim%d@gmail.com\n\n"
            % (client, n, n)).encode()


def main():
    s = connect(sys.argv[1])
    s.settimeout(5)
    try:
        s.sendall(request(sys.argv[2], 1) + request(sys.argv[2], 2))
    except OSError:
        pass  # closed at once: the reading below says so
    data = b""
    while data.count(b"\n\n") < 2:
        try:
            chunk = s.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    lines = [l for l in data.decode(errors="replace").splitlines() if l]
    print("\n".join(lines) if lines else "closed")


main()
