#!/usr/bin/python3
"""Relay attempts at a steady pace, for the fleet tests: one every INTERVAL
seconds, each from the next address of SOURCES (one a line) in a thread of
its own, each a tests/e2e/smtp_session.py session (EHLO, MAIL, RCPT to a
foreign domain, DATA, a message), until STOPFILE exists or the addresses
run out. One line per attempt, in the order they started:
"<address> <start unix time> <step> <code> <step> <code> ...", e.g.
"10.77.16.9 1765139001.123 connect ok greeting 220 EHLO 250 MAIL 250
RCPT 250 DATA timeout".

  relay_attempts.py --server ADDR --sources FILE --stop FILE [--interval S]
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import smtp_session  # noqa: E402

_local = threading.local()


def _print(*args, **kwargs):
    """smtp_session's print, into the calling thread's transcript."""
    _local.steps.append(" ".join(str(a) for a in args))


smtp_session.print = _print


class _Args(argparse.Namespace):
    """smtp_session's arguments: an option it knows and we do not set is
    None, as argparse leaves an option that is not given."""

    def __getattr__(self, name):
        return None


def attempt(a, i, src, lines, lock):
    _local.steps = []
    s = _Args(server=a.server, src=src, sport=0,
              rcpt=[f"victim{i}@gmail.com"], pause=0.0, ehlo=1, noop=0,
              data=True, starttls=False, pipeline=False,
              sender="bot@attacker.invalid", timeout=a.timeout)
    start = time.time()
    try:
        smtp_session.session(s)
    except OSError as e:
        _local.steps.append(f"error {e.errno}")
    with lock:
        lines[i] = f"{src} {start:.3f} " + " ".join(_local.steps)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--sources", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=1.5)
    a = p.parse_args()
    with open(a.sources) as f:
        srcs = f.read().split()
    lines, lock, threads = {}, threading.Lock(), []
    due = time.monotonic()
    for i, src in enumerate(srcs):
        if os.path.exists(a.stop):
            break
        t = threading.Thread(target=attempt, args=(a, i, src, lines, lock))
        t.start()
        threads.append(t)
        due += a.interval
        time.sleep(max(0.0, due - time.monotonic()))
    for t in threads:
        t.join()
    for i in sorted(lines):
        print(lines[i])
    return 0


if __name__ == "__main__":
    sys.exit(main())
