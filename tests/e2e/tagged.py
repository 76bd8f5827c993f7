#!/usr/bin/python3
"""Send N TCP SYNs to SERVER:25 in Ethernet frames carrying VLAN tags in
the frame (scapy, Debian's python3), out of IFACE at layer 2 to SERVER_MAC;
with "reply", N SYN-ACKs from SRC:25 to SERVER instead (what a server
sends).

  tagged.py SRC SERVER SERVER_MAC IFACE TPIDS N [reply]

TPIDS: the tags' ethertypes in hex, outermost first, comma-separated:
8100 (802.1Q), 88a8,8100 (QinQ), 88a8,8100,8100 (three tags). Exit 2 on
usage.
"""
import logging
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no route: sent at layer 2
from scapy.all import Ether, Dot1AD, Dot1Q, IP, TCP, sendp, conf

conf.verb = 0
if len(sys.argv) not in (7, 8) or sys.argv[7:] not in ([], ["reply"]):
    sys.exit(__doc__ and 2)
src, server, mac, iface, tpids, n = sys.argv[1:7]
tcp = TCP(sport=40000, dport=25, flags="S")
if sys.argv[7:]:
    tcp = TCP(sport=25, dport=40000, flags="SA")
frame = Ether(dst=mac)
for i, tpid in enumerate(tpids.split(",")):
    if tpid not in ("8100", "88a8"):
        sys.exit(2)
    frame = frame / (Dot1AD if tpid == "88a8" else Dot1Q)(vlan=100 + i)
frame = frame / IP(src=src, dst=server) / tcp
sendp(frame, iface=iface, count=int(n))
