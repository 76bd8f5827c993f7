#!/usr/bin/python3
"""Bad input on relayguardd's policy service socket, one case at a time,
while a well-behaved client (smtpd) keeps its connection open and is
answered between every two cases.

  bad_input.py HOST PORT CAP

Each case prints "ok CASE: ..." or "FAIL CASE: ..."; exit 1 when any failed.
A bad client must be closed by the server without an answer (a good request
before the bad bytes is answered first); the flood case opens CAP + 10
connections: CAP stay usable, the rest are closed at once.
"""
import socket
import sys
import time

GOOD = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
        b"client_address=10.77.0.10\nclient_port=40000\n"
        b"recipient=user@example.test\nsender=a@lab.test\n\n")
DUNNO = b"action=DUNNO\n\n"
CLOSE_WAIT = 15.0  # the server closes a stalled request after 10 s

failures = 0


def result(name, ok, why):
    global failures
    print(f"{'ok' if ok else 'FAIL'} {name}: {why}", flush=True)
    failures += 0 if ok else 1


def connect(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    return s


def read_until_closed(s, timeout):
    """Bytes the server sent before closing, and whether it closed."""
    got = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return got, True
        if not d:
            return got, True
        got += d
    return got, False


def ask(s, req=GOOD):
    s.sendall(req)
    got = b""
    while not got.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d:
            raise ConnectionError("closed")
        got += d
    return got


def bad(host, port, name, payload, answers=0, half_close=False):
    s = connect(host, port)
    try:
        s.sendall(payload)
        if half_close:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server may close while we still write
    got, closed = read_until_closed(s, CLOSE_WAIT)
    s.close()
    want = DUNNO * answers
    if closed and got == want:
        result(name, True, f"closed after {answers} answer(s)")
    else:
        result(name, False, f"closed={closed} got={got[:80]!r}")


def many_attrs():
    return b"request=smtpd_access_policy\n" + b"".join(
        b"x%d=y\n" % i for i in range(64)) + b"\n"


CASES = [
    ("no empty line, then EOF", b"request=smtpd_access_policy\nrecipient=u@x\n",
     0, True),
    ("no empty line, stalled", b"request=smtpd_access_policy\nrecipient=u@x\n",
     0, False),
    ("attribute over 2048 bytes", b"request=smtpd_access_policy\nhelo_name="
     + b"a" * 3000, 0, False),
    ("request over 8192 bytes", b"request=smtpd_access_policy\n"
     + b"a=bcdef\n" * 1100, 0, False),
    ("NUL byte", b"request=smtpd_access_policy\nhelo_name=a\0b\n\n", 0, False),
    ("TLS ClientHello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32),
     0, False),
    ("HTTP request", b"GET / HTTP/1.1\r\nHost: relayguard\r\n\r\n", 0, False),
    ("line without =", b"request=smtpd_access_policy\nhello\n\n", 0, False),
    ("empty attribute name", b"request=smtpd_access_policy\n=x\n\n", 0, False),
    ("no request attribute", b"protocol_state=RCPT\nrecipient=u@x\n\n", 0, False),
    ("unknown request type", b"request=junk\n\n", 0, False),
    ("65 attributes", many_attrs(), 0, False),
    ("bare CR", b"request=smtpd_access_policy\rrecipient=u@x\n\n", 0, False),
    ("DEL byte", b"request=smtpd_access_policy\nhelo_name=\x7f\n\n", 0, False),
    ("control byte", b"request=smtpd_access_policy\nsender=\x1b[2J\n\n", 0, False),
    ("empty request", b"\n", 0, False),
    ("good request then binary", GOOD + b"\xff\xfe\x00\x01\n\n", 1, False),
    ("random bytes", bytes(range(256)) * 4, 0, False),
]


def flood(host, port, cap):
    conns, refused = [], 0
    for _ in range(cap + 10):
        conns.append(connect(host, port))
    time.sleep(0.5)
    usable = 0
    for c in conns:
        try:
            c.settimeout(0.2)
            d = c.recv(1)
            refused += d == b""
        except socket.timeout:
            pass  # still open
        except ConnectionResetError:
            refused += 1
    for c in conns:
        try:
            c.settimeout(5)
            usable += ask(c) == DUNNO
        except OSError:
            pass
    for c in conns:
        c.close()
    result("connection flood", refused == 10 and usable == cap,
           f"{cap + 10} connections: {refused} closed at once, {usable} answered")


def never_reads(host, port, keeper):
    """A client that pipelines thousands of requests and reads nothing:
    the server stops reading it (its answers wait), the others go on."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.setblocking(False)
    sent = 0
    data = GOOD * 250000  # 35 MB
    end = time.monotonic() + 5
    while sent < len(data) and time.monotonic() < end:
        try:
            sent += s.send(data[sent:])
        except BlockingIOError:
            time.sleep(0.01)
    ok = ask(keeper) == DUNNO
    result("client that never reads", ok and sent < len(data),
           f"sent {sent} of {len(data)} bytes before the server stopped "
           f"reading; another client answered: {ok}")
    s.close()


def main():
    host, port, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    keeper = connect(host, port)
    result("good client", ask(keeper) == DUNNO, "answered DUNNO")
    # pipelined: three requests in one write, three answers in order
    result("pipelined requests", ask(keeper, GOOD * 3) == DUNNO * 3,
           "three answers")
    # one byte a second is slow but valid
    s = connect(host, port)
    for b in GOOD[:40]:
        s.sendall(bytes([b]))
        time.sleep(0.01)
    result("slow but valid", ask(s, GOOD[40:]) == DUNNO, "answered")
    s.close()
    for name, payload, answers, half in CASES:
        bad(host, port, name, payload, answers, half)
        # the log allows 10 lines a second: stay under it
        time.sleep(0.15)
        try:
            result(f"good client after '{name}'", ask(keeper) == DUNNO,
                   "still answered")
        except OSError as e:
            result(f"good client after '{name}'", False, str(e))
    never_reads(host, port, keeper)
    keeper.close()
    time.sleep(1.2)  # a new second: the flood's log line is not suppressed
    flood(host, port, cap)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
