"""The fault suite's lab and rows: two gateways with both streams up and
acknowledged before a load starts, the loads of either direction, and a row
of the table with its own checks."""

import contextlib
import os
import time

from fault_load import Load
from two_gateways import TwoGateways, has_id, message

ALICE, BOB = "alice@a.test/desk", "bob@b.test/phone"


def make_lab(**overrides):
    attrs = dict(a_metrics=True, b_metrics=True,
                 a_limits={"delivery_deadline_seconds": 30}, b_limits={"delivery_deadline_seconds": 30})
    attrs.update(overrides)
    lab = type("FaultLab", (TwoGateways,), attrs)
    lab.setUpClass()
    try:
        # The streams up before the load starts: A's first, so that with bidi
        # (XEP-0288, the default) it is the one that carries both ways.
        # 30 s, as rate_limit_test's warm-up: the first message waits for DNS, a
        # connection and its negotiation, and under a full parallel test run (CI
        # runs ctest -j2 beside the Prosody labs) 15 s was once not enough.
        lab.internal_a.send("b.test", message(ALICE, "bob@b.test", "warm-ab"))
        lab.internal_b.wait_stanza(has_id("warm-ab"), timeout=30, what="the warm-up to b.test")
        lab.internal_b.send("a.test", message(BOB, "alice@a.test", "warm-ba"))
        lab.internal_a.wait_stanza(has_id("warm-ba"), timeout=30, what="the warm-up to a.test")
    except BaseException:
        lab.tearDownClass()
        raise
    lab.warmups_from_a = 1  # stanzas A took from its internal server before the load
    return lab


@contextlib.contextmanager
def fault_lab(**overrides):
    """A row's lab (make_lab), taken down when the row is done or fails."""
    lab = make_lab(**overrides)
    try:
        yield lab
    finally:
        lab.tearDownClass()


def during_load(load, phase, fault):
    """Starts `load`, runs `fault` after `phase` seconds, lets the load go on
    for `phase` more, and stops it."""
    load.start()
    time.sleep(phase)
    fault()
    time.sleep(phase)
    load.stop()
    return load


def kill_and_restart_a(lab):
    """SIGKILL of gateway A, and a new A on its port and store once its
    component link is up."""
    state_dir = lab.a.state_dir
    lab.a.kill()
    time.sleep(1)
    lab.a = lab.start_a("A-restarted", state_dir=state_dir)
    lab.internal_a.wait_links(["b.test"], lab.a)


def a_to_b(lab, name, rate):
    return Load(name, lab.internal_a, "b.test", ALICE, "bob@b.test", rate)


def b_to_a(lab, name, rate):
    return Load(name, lab.internal_b, "a.test", BOB, "alice@a.test", rate)


def total(metrics, family):
    return sum(v for k, v in metrics.items() if k == family or k.startswith(family + "{"))


# Under AddressSanitizer (scripts/test --sanitize) freed memory waits in a
# quarantine and the heap is shadowed; ThreadSanitizer's (scripts/test --tsan)
# shadow and allocator keep what they took: resident memory says nothing of
# fedgate's under either.
MEMORY_MEANINGFUL = "ASAN_OPTIONS" not in os.environ and "TSAN_OPTIONS" not in os.environ


class Row:
    """One fault's line of the table, its notes, and the checks that failed."""

    def __init__(self, fault, path):
        self.fault, self.path = fault, path
        self.account = None
        self.not_taken = 0
        self.rss = {}
        self.notes = []
        self.failures = []
        self.expected_loss = False  # a loss XMPP itself cannot avoid, reported, not failed

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)

    def check_memory(self, ok, what):
        if MEMORY_MEANINGFUL:
            self.check(ok, what)
        elif "memory not checked under AddressSanitizer" not in self.notes:
            self.notes.append("memory not checked under AddressSanitizer")

    @property
    def lost(self):
        return len(self.account.missing) - self.not_taken if self.account else 0
