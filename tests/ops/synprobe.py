#!/usr/bin/python3
"""A prober for the upgrade and ban-hits tests (synprobe.sh): one TCP SYN
every --interval seconds from --src to --dst:25 (a fresh source port
each), and a count of the SYN-ACKs that come back, until the file
--until exists.

  synprobe.py --src ADDR --dst ADDR --until FILE --progress FILE
              [--interval S]

Raw sockets, no connection state: the prober's kernel answers each SYN-ACK
with a RST, so Postfix holds nothing. Every 20 SYNs and at the end it
rewrites --progress with "SENT SYNACKS"; at the end it prints the same.
"""
import argparse
import os
import random
import select
import socket
import struct
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def syn(src, dst, sport):
    seq = random.getrandbits(32)
    hdr = struct.pack("!HHIIBBHHH", sport, 25, seq, 0, 5 << 4, 0x02,
                      64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(hdr))
    c = checksum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def is_synack(pkt, src, dst):
    ihl = (pkt[0] & 0x0F) * 4
    if len(pkt) < ihl + 14 or pkt[12:16] != socket.inet_aton(dst) or \
            pkt[16:20] != socket.inet_aton(src):
        return False
    sport, = struct.unpack("!H", pkt[ihl:ihl + 2])
    return sport == 25 and pkt[ihl + 13] & 0x12 == 0x12


def write_progress(path, sent, synacks):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{sent} {synacks}\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--until", required=True)
    p.add_argument("--progress", required=True)
    p.add_argument("--interval", type=float, default=0.005)
    a = p.parse_args()

    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    tx.bind((a.src, 0))
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rx.setblocking(False)
    sent = synacks = 0
    nxt = time.monotonic()
    while True:
        stop = os.path.exists(a.until)
        if not stop:
            tx.sendto(syn(a.src, a.dst, random.randint(20000, 60000)),
                      (a.dst, 0))
            sent += 1
            nxt += a.interval
        # after the stop, a last 200 ms for SYN-ACKs still on their way
        end = time.monotonic() + 0.2 if stop else nxt
        while True:
            wait = end - time.monotonic()
            if wait <= 0:
                break
            if select.select([rx], [], [], wait)[0]:
                synacks += is_synack(rx.recv(2048), a.src, a.dst)
        if stop or sent % 20 == 0:
            write_progress(a.progress, sent, synacks)
        if stop:
            break
    print(f"{sent} {synacks}")


if __name__ == "__main__":
    main()
