"""A capture of a port-25 session, for the scripts that forge segments
into one (evasion_session.py, fragsyn.py): open before the session
connects, and the sequence numbers the next forged segment needs once
the capture has caught up with the session (it lags the socket)."""
import threading
import time


def smtp_capture(iface, who):
    """A started scapy AsyncSniffer of TCP port 25 on iface and the list
    its packets go to; exits (naming who) if it does not open in 10 s."""
    from scapy.all import TCP, AsyncSniffer
    seen = []
    ready = threading.Event()
    sniffer = AsyncSniffer(iface=iface, store=False, prn=seen.append,
                           lfilter=lambda p: TCP in p and 25 in (
                               p[TCP].sport, p[TCP].dport),
                           started_callback=ready.set)
    sniffer.start()
    if not ready.wait(10):
        raise SystemExit(f"{who}: the capture did not start")
    return sniffer, seen


def _seqs(seen, sport, sent):
    """The client's next sequence number and the server's, once seen holds
    the client's last write (sent; b"" before its first) and the server's
    reply to it; None before."""
    from scapy.all import TCP, Raw
    pkts = [p for p in list(seen) if sport in (p[TCP].sport, p[TCP].dport)]
    cli = [p for p in pkts if p[TCP].dport == 25 and
           (p[TCP].flags.S or Raw in p)]
    srv = [p for p in pkts if p[TCP].sport == 25 and Raw in p]
    if not cli or not srv:
        return None
    last = cli[-1][TCP]
    data = cli[-1][Raw].load if Raw in cli[-1] else b""
    cseq = (last.seq + (1 if last.flags.S else len(data))) & 0xffffffff
    if not data.endswith(sent) or srv[-1][TCP].ack != cseq:
        return None
    return cseq, (srv[-1][TCP].seq + len(srv[-1][Raw].load)) & 0xffffffff


def session_seqs(seen, sport, sent, who):
    """_seqs once the capture has caught up (up to 5 s); exits naming who
    if it never does."""
    for _ in range(50):
        seqs = _seqs(seen, sport, sent)
        if seqs:
            return seqs
        time.sleep(0.1)
    raise SystemExit(f"{who}: the session was not captured")
