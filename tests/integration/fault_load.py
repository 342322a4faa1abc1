"""What the fault suite measures with: a steady load of messages from one
internal server to the other, through both gateways; the account of what
became of each stanza sent; and the resident memory of a process, sampled."""

import threading
import time

from two_gateways import error_condition, message


class Load:
    """Messages from `sender` (an internal server) over its link for
    `link_domain`, `rate` a second in batches every 10 ms, until stop(). A
    batch the sender's socket refused (no link, or the link broke while it was
    written) is not counted as sent: the sender knows it did not go."""

    def __init__(self, name, sender, link_domain, from_jid, to_jid, rate):
        self.name, self.sender, self.link_domain = name, sender, link_domain
        self.from_jid, self.to_jid, self.rate = from_jid, to_jid, rate
        self.sent = []  # ids, in order
        self.sent_at = {}
        self.refused = 0
        self.blocked_seconds = 0.0  # time spent in a send that TCP held back
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        period, n, started = 0.01, 0, time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - started) * self.rate)
            if due > n:
                ids = ["%s-%d" % (self.name, i) for i in range(n, due)]
                n = due
                self._send(ids)
            time.sleep(period)

    def _send(self, ids):
        link = self.sender.link(self.link_domain)
        if link is None:
            self.refused += len(ids)
            return
        data = "".join(message(self.from_jid, self.to_jid, i) for i in ids)
        now = time.monotonic()
        try:
            link.send(data)
        except OSError:
            self.refused += len(ids)
            return
        self.blocked_seconds += max(0.0, time.monotonic() - now - 0.005)
        for i in ids:
            self.sent_at[i] = now
        self.sent.extend(ids)


class Account:
    """What became of every stanza `load` sent: delivered to `receiver` (once
    or more), bounced to the sender with an error, or neither (lost)."""

    def __init__(self, load, receiver):
        with receiver.changed:
            got = list(zip(receiver.received, receiver.received_at))
        with load.sender.changed:
            back = list(load.sender.received)
        wanted = set(load.sent)
        first_seen = {}
        self.delivered_total = 0
        for e, at in got:
            ident = e.get("id")
            if ident in wanted and e.get("type") != "error":
                self.delivered_total += 1
                first_seen.setdefault(ident, at)
        self.delivered = set(first_seen)
        self.duplicates = self.delivered_total - len(self.delivered)
        self.bounced = {e.get("id") for e in back if e.get("id") in wanted and e.get("type") == "error"}
        self.conditions = sorted({error_condition(e) for e in back if e.get("id") in self.bounced})
        self.missing = wanted - self.delivered - self.bounced
        self.sent = len(wanted)
        latencies = sorted(first_seen[i] - load.sent_at[i] for i in first_seen)
        self.latency = {q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0
                        for q in (0.5, 0.99)}
        self.duration = (max(first_seen.values()) - min(load.sent_at.values())) if first_seen else 0.0

    def settled(self):
        return not self.missing


def settle(load, receiver, timeout):
    """The account once nothing is missing, or when `timeout` has passed. An
    account reads every stanza received, and the receiving threads need the
    interpreter meanwhile: it is made only when enough has come back to settle
    it, and at most every 2 s."""
    deadline = time.monotonic() + timeout
    last = 0.0
    while True:
        now = time.monotonic()
        enough = len(receiver.received) + len(load.sender.received) >= len(load.sent)
        if (enough and now - last >= 2) or now > deadline:
            last = now
            account = Account(load, receiver)
            if account.settled() or now > deadline:
                return account
        time.sleep(0.2)


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class RssSampler:
    """The resident memory of a process (the current one of `gateway`, which a
    row may replace) every 100 ms: the first sample, the highest, the last."""

    def __init__(self, gateway_of):
        self.gateway_of = gateway_of
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            value = rss_mib(self.gateway_of().process.pid)
            if value is not None:
                self.samples.append(value)
            time.sleep(0.1)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self

    def summary(self):
        if not self.samples:
            return (0.0, 0.0, 0.0)
        return (self.samples[0], max(self.samples), self.samples[-1])
