"""The fault suite's rows about connections rather than stanzas: a flood of
idle unauthenticated connections, and a listen queue the kernel finds full."""

import selectors
import signal
import socket
import time

from fault_lab import Row, b_to_a, make_lab
from fault_load import RssSampler, settle
from lab import FakePeer, wait_for

PER_ADDRESS = 10  # below the default connections_per_ip (16)


def stranger(n):
    """The n-th stranger's source address: 127.1.0.1 and up, PER_ADDRESS each."""
    host = n // PER_ADDRESS
    return "127.1.%d.%d" % (host // 250, host % 250 + 1)


def connect_from(address, port, blocking=True):
    s = socket.socket()
    s.bind((address, 0))
    if blocking:
        s.connect(("127.0.0.1", port))
    else:
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
    return s


def wait_closed(socks, timeout):
    """How many of `socks` the other side closed within `timeout` (whatever
    it wrote first is read and thrown away)."""
    selector = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
    closed, deadline = 0, time.monotonic() + timeout
    while closed < len(socks) and time.monotonic() < deadline:
        for key, _ in selector.select(0.5):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                selector.unregister(key.fileobj)
                closed += 1
    selector.close()
    return closed


def idle_connections(scale):
    count = scale.idle
    row = Row("%d idle unauthenticated connections" % count, "B -> A")
    lab = make_lab(a_limits={"delivery_deadline_seconds": 30, "max_inbound_connections": count + 100})
    socks = []
    try:
        rss = RssSampler(lambda: lab.a)
        time.sleep(0.5)
        load = b_to_a(lab, "idle", scale.rate).start()
        began = time.monotonic()
        for n in range(count):
            socks.append(connect_from(stranger(n), lab.ports["a"]))
        opened = time.monotonic() - began
        # A legitimate partner's new stream, from an address of its own, meanwhile.
        began = time.monotonic()
        peer = FakePeer(lab.ports["a"], "b.test", "a.test", lab.ws.pki)
        served = time.monotonic() - began
        peer.close()
        closed = wait_closed(socks, timeout=30)
        time.sleep(2)
        load.stop()
        row.account = settle(load, lab.internal_a, 30)
        row.rss["A"] = rss.stop().summary()
        start, peak, end = row.rss["A"]
        row.check(closed == count, "A closed every idle connection on its negotiation timeout (%d of %d)"
                  % (closed, count))
        row.check_memory(end - start < 8, "A's memory back near its start (< 8 MiB more)")
        row.notes.append("%d opened in %.1f s from %d addresses, %d closed by A; a new partner stream "
                         "authenticated in %.2f s meanwhile" % (count, opened, (count + PER_ADDRESS - 1) // PER_ADDRESS,
                                                              closed, served))
    finally:
        for s in socks:
            s.close()
        lab.tearDownClass()
    return row


def listen_queue_full(scale):
    row = Row("listen queue full (A stopped 2 s)", "-")
    with open("/proc/sys/net/core/somaxconn") as f:
        backlog = min(int(f.read()), 4096)  # what the kernel grants fedgate's listen(SOMAXCONN)
    count = backlog + 200
    lab = make_lab(a_limits={"delivery_deadline_seconds": 30, "max_inbound_connections": count + 100})
    socks = []
    try:
        before = lab.a.scrape().get("fedgate_listen_overflows_total")
        row.check(before is not None, "fedgate_listen_overflows_total present from the start")
        lab.a.signal(signal.SIGSTOP)
        for n in range(count):
            socks.append(connect_from(stranger(n), lab.ports["a"], blocking=False))
        time.sleep(2)
        lab.a.signal(signal.SIGCONT)
        after = wait_for(lambda: (lambda v: v if v and v > (before or 0) else None)(
            lab.a.scrape().get("fedgate_listen_overflows_total")), 10, "the overflows to be counted")
        lab.a.wait_log("on a full listen queue")
        row.notes.append("%d connections at a queue of %d: the kernel dropped %d attempts; counted and logged"
                         % (count, backlog, after - (before or 0)))
    finally:
        for s in socks:
            s.close()
        lab.tearDownClass()
    return row
