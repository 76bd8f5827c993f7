#!/usr/bin/python3
"""Send one TCP SYN to SERVER:25 shaped as KIND, and say whether the server
answered it with a SYN-ACK; or, for the session kinds, one segment of a
real session as IPv4 fragments (scapy, Debian's python3).

  fragsyn.py KIND SRC SERVER SERVER_MAC IFACE

KIND:
  plain     an ordinary SYN, not fragmented (the control)
  tiny      two fragments, the first carrying only 16 bytes of the TCP
            header (RFC 1858 tiny fragment): the ports are in it, the rest
            of the header in the second
  whole     two fragments, the first carrying the whole TCP header (MSS
            option) and 8 bytes of SYN data, the second the other 8
  ext7      IPv6 only: the SYN behind seven destination-options headers,
            more than relayguard's parser walks
  dot1q     a plain SYN in an 802.1Q frame of VLAN 100 (the lab's vlan
            topology), the tag in the frame as a trunk port carries it
Session kinds (IPv4; a kernel socket for the handshake, EHLO and MAIL, then
the client's next segment forged with the session's own sequence numbers,
learnt from a capture):
  rcpt      `RCPT TO:<victim@gmail.com>` as two fragments, the first with
            the whole TCP header and 12 bytes of the line; prints "reply
            CODE" for the server's reply to it, or "none" (after 3 s)
  rcpt1     the same segment unfragmented (the control: the forging works)
  body      RCPT to a local user, DATA, then a message body segment as two
            fragments, sent again each second as TCP would (up to 8 times:
            the daemon pauses sampling a few ms after the 354); prints
            "acked" once the server acknowledges it, or "none"

Frames go out at layer 2 to SERVER_MAC (no neighbour resolution on the way).
Prints "synack" or "none" (after up to 3 s) and exits 0; exit 2 on usage.
"""
import random
import sys
import threading
import time

from scapy.all import (IP, IPv6, TCP, Ether, Raw, AsyncSniffer, sendp, conf,
                       Dot1Q, IPv6ExtHdrFragment, IPv6ExtHdrDestOpt)

from smtpcapture import session_seqs, smtp_capture

conf.verb = 0
if len(sys.argv) != 6:
    sys.exit(__doc__ and 2)
kind, src, server, mac, iface = sys.argv[1:]


def session_reply(f):
    """One (possibly multi-line) SMTP reply's code, "" when it never came."""
    try:
        while True:
            line = f.readline()
            if not line:
                return ""
            if len(line) < 4 or line[3:4] != b"-":
                return line[:3].decode("ascii", "replace")
    except OSError:
        return ""


def session_frags(sport, cseq, sseq, payload, split):
    """The segment [cseq, +len) as IPv4 fragments (split: first's bytes)."""
    tcp = TCP(sport=sport, dport=25, flags="PA", seq=cseq, ack=sseq) / Raw(
        payload)
    seg = bytes(IP(src=src, dst=server) / tcp)[20:]
    ident = random.getrandbits(16)
    eth = Ether(dst=mac)
    if not split:
        return [eth / IP(src=src, dst=server, proto=6) / Raw(seg)]
    return [eth / IP(src=src, dst=server, id=ident, proto=6, flags="MF") /
            Raw(seg[:split]),
            eth / IP(src=src, dst=server, id=ident, proto=6,
                     frag=split // 8) / Raw(seg[split:])]


def session(kind):
    import socket
    _, seen = smtp_capture(iface, "fragsyn.py")
    sock = socket.create_connection((server, 25), timeout=3,
                                    source_address=(src, 0))
    f = sock.makefile("rb")
    sport = sock.getsockname()[1]
    lines = [b"EHLO frag.lab.test\r\n", b"MAIL FROM:<bot@attacker.invalid>\r\n"]
    if kind == "body":
        lines += [b"RCPT TO:<user@example.test>\r\n", b"DATA\r\n"]
    codes = [session_reply(f)]
    for line in lines:
        sock.sendall(line)
        codes.append(session_reply(f))
    want = ["220", "250", "250"] + (["250", "354"] if kind == "body" else [])
    if codes != want:
        sys.exit(f"fragsyn.py: session replies {codes}, expected {want}")
    cseq, sseq = session_seqs(seen, sport, lines[-1], "fragsyn.py")
    if kind == "body":
        payload = (b"Subject: fragmented body\r\n\r\n" + b"x" * 78 +
                   b"\r\n") * 4
        pkts = session_frags(sport, cseq, sseq, payload, 32)
        end = (cseq + len(payload)) & 0xffffffff
        for _ in range(8):
            sendp(pkts, iface=iface)
            time.sleep(1)
            if any(p[TCP].sport == 25 and p[TCP].dport == sport and
                   p[TCP].ack == end for p in list(seen)):
                print("acked")
                return
        print("none")
        return
    line = b"RCPT TO:<victim@gmail.com>\r\n"
    sendp(session_frags(sport, cseq, sseq, line, 32 if kind == "rcpt" else 0),
          iface=iface)
    for _ in range(30):
        time.sleep(0.1)
        got = [p for p in list(seen) if p[TCP].sport == 25 and
               p[TCP].dport == sport and Raw in p and p[TCP].seq == sseq]
        if got:
            print("reply " + got[0][Raw].load[:3].decode("ascii", "replace"))
            return
    print("none")


if kind in ("rcpt", "rcpt1", "body"):
    session(kind)
    sys.exit(0)
v6 = ":" in server
sport = random.randint(20000, 60000)
isn = random.getrandbits(32)
ident = random.getrandbits(16 if not v6 else 32)
L3 = IPv6 if v6 else IP
data = b"0123456789abcdef" if kind == "whole" else b""
tcp = TCP(sport=sport, dport=25, flags="S", seq=isn,
          options=[("MSS", 1400)]) / Raw(data)
# the TCP bytes with their checksum over the real addresses
seg = bytes(L3(src=src, dst=server) / tcp)[40 if v6 else 20:]
cut = {"tiny": 16, "whole": 32}.get(kind)
eth = Ether(dst=mac)


def fragment(off, chunk, more):
    if v6:
        return eth / IPv6(src=src, dst=server) / IPv6ExtHdrFragment(
            nh=6, id=ident, offset=off // 8, m=more) / Raw(chunk)
    return eth / IP(src=src, dst=server, id=ident, proto=6,
                    flags="MF" if more else 0, frag=off // 8) / Raw(chunk)


if kind in ("plain", "dot1q"):
    l3 = IPv6(src=src, dst=server, nh=6) if v6 else IP(src=src, dst=server,
                                                          proto=6)
    if kind == "dot1q":
        eth = eth / Dot1Q(vlan=100)
    pkts = [eth / l3 / Raw(seg)]
elif kind in ("tiny", "whole"):
    pkts = [fragment(0, seg[:cut], 1), fragment(cut, seg[cut:], 0)]
elif kind == "ext7" and v6:
    pkts = [eth / IPv6(src=src, dst=server, nh=60) /
            (IPv6ExtHdrDestOpt(nh=60) / IPv6ExtHdrDestOpt(nh=60) /
             IPv6ExtHdrDestOpt(nh=60) / IPv6ExtHdrDestOpt(nh=60) /
             IPv6ExtHdrDestOpt(nh=60) / IPv6ExtHdrDestOpt(nh=60) /
             IPv6ExtHdrDestOpt(nh=6)) / Raw(seg)]
else:
    sys.exit(2)

flt = f"tcp and src port 25 and dst port {sport}"
ready = threading.Event()
sniffer = AsyncSniffer(iface=iface, filter=flt, count=1, timeout=3,
                       started_callback=ready.set)
sniffer.start()
if not ready.wait(10):  # the capture must be open before the SYN leaves
    sys.exit("fragsyn.py: capture did not start")
sendp(pkts, iface=iface)
sniffer.join()
seen = [p for p in (sniffer.results or [])
        if p.haslayer(TCP) and p[TCP].flags & 0x12 == 0x12
        and p[TCP].ack == (isn + 1) & 0xffffffff]
print("synack" if seen else "none")
