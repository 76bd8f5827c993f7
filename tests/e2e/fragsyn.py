#!/usr/bin/python3
"""Send one TCP SYN to SERVER:25 shaped as KIND, and say whether the server
answered it with a SYN-ACK (scapy, Debian's python3).

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

Frames go out at layer 2 to SERVER_MAC (no neighbour resolution on the way).
Prints "synack" or "none" (after up to 3 s) and exits 0; exit 2 on usage.
"""
import random
import sys
import threading

from scapy.all import (IP, IPv6, TCP, Ether, Raw, AsyncSniffer, sendp, conf,
                       IPv6ExtHdrFragment, IPv6ExtHdrDestOpt)

conf.verb = 0
if len(sys.argv) != 6:
    sys.exit(__doc__ and 2)
kind, src, server, mac, iface = sys.argv[1:]
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


if kind == "plain":
    l3 = IPv6(src=src, dst=server, nh=6) if v6 else IP(src=src, dst=server,
                                                          proto=6)
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
