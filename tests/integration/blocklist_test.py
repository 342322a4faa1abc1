"""Integration tests of the operator's blocklist ([blocklist] file,
refresh_seconds): gateway A (a.test) alone, with fake peers speaking S2S to it
and the test's XEP-0114 server as its internal server.

The blocklist file, beside A's configuration:
    line 2  bad.test       a listed partner, blocked by its exact name
    line 4  *.spam.test    every subdomain of spam.test: strangers such as
                           x.spam.test, but not ok.spam.test, a listed partner
late.test, a listed partner, is added to the file while its stream is up;
out.test, another, while fedgate's outbound stream to it is negotiating.
bad.test's, ok.spam.test's and out.test's SRV records lead to listeners of the
test's own, which tell whether fedgate ever connected there (out.test's keeps
the connection and never answers).
Run: python3 tests/integration/blocklist_test.py (FEDGATE_BINARY names the
binary; default build/daemon/fedgate)."""

import os
import select
import signal
import socket
import subprocess
import sys
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(__file__))
from lab import SOURCE, ComponentServer, Dnsmasq, FakePeer, Gateway, Workspace, free_port, srv_records, wait_for  # noqa: E402
from two_gateways import STANZAS, STREAMS, ClassLab, error_condition, has_id, message  # noqa: E402

SASL_ONLY = {"tls": "required", "sasl": "required", "dialback": False}
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
          "xmlns:stream='http://etherx.jabber.org/streams'%s to='a.test' version='1.0'>")
BLOCKLIST = ["# refused by the operator",
             "bad.test",
             "",
             "*.spam.test   # strangers under spam.test, not the partner ok.spam.test"]
BINARY = os.environ.get("FEDGATE_BINARY", os.path.join(SOURCE, "build/daemon/fedgate"))


def key(name, **labels):
    return "%s{%s}" % (name, ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items())))


CLOSED_BLOCKED = key("fedgate_stream_closes_total", direction="in", reason="blocked")
CLOSED_UNKNOWN = key("fedgate_stream_closes_total", direction="in", reason="unknown-partner")
BLOCKED_IN = key("fedgate_blocked_total", direction="in")
BLOCKED_OUT = key("fedgate_blocked_total", direction="out")
READS_OK = key("fedgate_blocklist_reads_total", result="ok")
READS_ERROR = key("fedgate_blocklist_reads_total", result="error")
ENTRIES_DOMAIN = key("fedgate_blocklist_entries", kind="domain")
ENTRIES_WILDCARD = key("fedgate_blocklist_entries", kind="wildcard")


class BlocklistGateway(Gateway):
    """The lab's gateway with a [blocklist] section (kept by write_config, so
    also in what a reload reads)."""

    def __init__(self, *args, blocklist=(), **kwargs):
        self.blocklist_lines = list(blocklist)
        super().__init__(*args, **kwargs)

    def write_config(self, partners, extra=()):
        super().write_config(partners, self.blocklist_lines + list(extra))


def write_atomically(path, lines):
    """The file as a whole, never half-written when fedgate reads it."""
    with open(path + ".new", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".new", path)


def read_until_closed(sock, timeout=15):
    """Everything the stream carried until fedgate closed the connection."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the connection is still open after %ss; received: %r" % (timeout, data))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data.decode()
        except socket.timeout:
            continue
        if not chunk:
            return data.decode()
        data += chunk


def read_stream_error(sock, timeout=15):
    """What the stream carried up to fedgate's </stream:stream>; then closes
    ours, as a peer does, and waits for the connection to end."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"</stream:stream>" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no </stream:stream> after %ss; received: %r" % (timeout, data))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            raise AssertionError("the connection ended without </stream:stream>; received: %r" % data)
        data += chunk
    try:
        sock.sendall(b"</stream:stream>")
    except OSError:
        pass
    return data.decode() + read_until_closed(sock, max(1.0, deadline - time.monotonic()))


class Listener:
    """A port that a domain's SRV record leads to: counts the connections made to it."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.accepted = 0

    def poll(self):
        """Accepts (and closes at once) what came; returns the count so far."""
        while select.select([self.sock], [], [], 0)[0]:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                break
            conn.close()
            self.accepted += 1
        return self.accepted

    def stop(self):
        self.sock.close()


class Holder(Listener):
    """A remote server that accepts and then says nothing: fedgate's outbound
    link to it waits in negotiation. Records what fedgate wrote."""

    def __init__(self):
        super().__init__()
        self.conns = []
        self.data = {}

    def poll(self):
        while select.select([self.sock], [], [], 0)[0]:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                break
            conn.setblocking(False)
            self.conns.append(conn)
            self.data[conn] = [b"", False]  # bytes read, closed by fedgate
        for conn in self.conns:
            got = self.data[conn]
            while not got[1]:
                try:
                    chunk = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    chunk = b""
                if not chunk:
                    got[1] = True
                else:
                    got[0] += chunk
        return len(self.conns)

    def stop(self):
        for conn in self.conns:
            conn.close()
        super().stop()


class Blocklist(ClassLab, unittest.TestCase):
    """The tests run in the order of their names: test_5, test_5b and test_6
    change the file, and put it back as it was."""

    @classmethod
    def start(cls):
        cls.ws = Workspace(["a.test", "bad.test", "late.test", "ok.spam.test", "x.spam.test"])
        cls.port = free_port()
        cls.bad_listener, cls.ok_listener, cls.out_holder = Listener(), Listener(), Holder()
        records = (srv_records("a.test", cls.port) + srv_records("bad.test", cls.bad_listener.port) +
                   srv_records("ok.spam.test", cls.ok_listener.port) + srv_records("out.test", cls.out_holder.port))
        cls.dns_log = os.path.join(cls.ws.dir, "dnsmasq.log")
        cls.dns = Dnsmasq(records, cls.dns_log)
        cls.internal = ComponentServer("component-secret-of-a")
        cls.blocklist_path = os.path.join(cls.ws.dir, "blocklist.txt")
        write_atomically(cls.blocklist_path, BLOCKLIST)
        cls.partners = [dict(domain=d, **SASL_ONLY) for d in ("bad.test", "late.test", "ok.spam.test", "out.test")]
        # Long negotiations and deadlines: out.test's link waits in negotiation
        # until the test blocks it, however slow the machine.
        cls.a = BlocklistGateway(cls.ws, "A", "a.test", cls.partners, cls.internal, cls.dns.port, cls.port,
                                 metrics_port=free_port(),
                                 limits={"negotiation_timeout_seconds": 60, "delivery_deadline_seconds": 60},
                                 blocklist=["[blocklist]", 'file = "blocklist.txt"', "refresh_seconds = 1"])
        cls.internal.wait_links(["bad.test", "late.test", "ok.spam.test", "out.test"], cls.a)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        for name in ("bad_listener", "ok_listener", "out_holder"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).stop()

    # ---- helpers -----------------------------------------------------------------

    def metrics(self):
        return self.a.scrape()

    def wait_metric(self, name, value, what, timeout=15):
        """Waits for `name` to reach `value` exactly (failing at once if it goes past)."""
        def reached():
            got = self.metrics().get(name)
            if got is not None and got > value:
                raise AssertionError("%s is %s, more than the %s expected" % (name, got, value))
            return got == value
        wait_for(reached, timeout, what)

    def refused_at_header(self, header_from):
        """A stream opened with from='header_from': what fedgate wrote before closing it."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall((HEADER % (" from='%s'" % header_from)).encode())
            return read_until_closed(s)
        finally:
            s.close()

    def assert_blocked_text(self, text, domain, line, pattern):
        self.assertIn("<policy-violation xmlns='%s'/>" % STREAMS, text.replace('"', "'"))
        self.assertIn("%s is blocked here (blocklist line %d: %s)" % (domain, line, pattern), text)
        # Before any negotiation: no features, no STARTTLS.
        self.assertNotIn("stream:features", text)
        self.assertNotIn("starttls", text)
        self.assertTrue(text.endswith("</stream:stream>"), text)

    def peer(self, domain):
        """An authenticated inbound stream of `domain` (STARTTLS, SASL EXTERNAL)."""
        p = FakePeer(self.port, domain, "a.test", self.ws.pki)
        self.addCleanup(p.close)
        return p

    def relay_in(self, peer, ident):
        peer.send(message("bob@%s/x" % peer.domain, "alice@a.test", ident))
        got = self.internal.wait_stanza(has_id(ident), what="%s's message %s" % (peer.domain, ident))
        self.assertEqual(got.get("from"), "bob@%s/x" % peer.domain)

    def bounces(self, prefix):
        with self.internal.changed:
            return [e for e in self.internal.received
                    if (e.get("id") or "").startswith(prefix) and e.get("type") == "error"]

    def assert_not_allowed(self, bounce, domain, line, pattern, ident):
        self.assertEqual(bounce.tag, "message")
        self.assertEqual(bounce.get("from"), "bob@%s" % domain)
        self.assertEqual(bounce.get("to"), "alice@a.test/desk")
        error = bounce.find("error")
        self.assertIsNotNone(error, "no <error/> in the bounce of " + ident)
        self.assertEqual(error.get("type"), "cancel")
        self.assertEqual(error_condition(bounce), "not-allowed")
        texts = [c.text or "" for c in error if c.tag == "text" and c.get("xmlns") == STANZAS]
        self.assertTrue(any("%s is blocked here (blocklist line %d: %s)" % (domain, line, pattern) in t
                            for t in texts), texts)

    def dns_queries_for(self, domain):
        with open(self.dns_log) as f:
            return [l for l in f if "query[" in l and domain in l]

    # ---- the tests ---------------------------------------------------------------

    def test_1_blocked_domains_are_refused_at_the_stream_header(self):
        # The file as read at start.
        metrics = self.metrics()
        self.assertEqual((metrics[ENTRIES_DOMAIN], metrics[ENTRIES_WILDCARD]), (1, 1))
        self.assertEqual((metrics[READS_OK], metrics[READS_ERROR]), (0, 0), "only read again when it changes")
        closed, blocked, unknown = metrics[CLOSED_BLOCKED], metrics[BLOCKED_IN], metrics[CLOSED_UNKNOWN]
        self.assertEqual(metrics[BLOCKED_OUT], 0)

        # A listed partner, by its exact name.
        self.assert_blocked_text(self.refused_at_header("bad.test"), "bad.test", 2, "bad.test")
        self.wait_metric(CLOSED_BLOCKED, closed + 1, "the first blocked close to be counted")
        # A stranger under the wildcard: blocked, not just "not a partner".
        self.assert_blocked_text(self.refused_at_header("x.spam.test"), "x.spam.test", 4, "*.spam.test")
        self.wait_metric(CLOSED_BLOCKED, closed + 2, "the second blocked close to be counted")
        self.wait_metric(BLOCKED_IN, blocked + 2, "fedgate_blocked_total{direction=in}")
        # The wildcard does not name spam.test itself: a stranger refused as such.
        text = self.refused_at_header("spam.test")
        self.assertIn("policy-violation", text)
        self.assertIn("spam.test is not a federation partner", text)
        self.assertNotIn("blocked", text)
        self.wait_metric(CLOSED_UNKNOWN, unknown + 1, "the unknown partner's close to be counted")
        self.a.wait_log("x.spam.test is blocked here (blocklist line 4: *.spam.test)")
        # Exactly: nothing more was counted meanwhile.
        metrics = self.metrics()
        self.assertEqual((metrics[CLOSED_BLOCKED], metrics[BLOCKED_IN], metrics[BLOCKED_OUT]),
                         (closed + 2, blocked + 2, 0))

    def test_2_a_blocked_sender_in_a_db_result_ends_the_stream(self):
        # A header without 'from' names nobody: the db:result's 'from' is checked.
        closed = self.metrics()[CLOSED_BLOCKED]
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall((HEADER % "").encode())
        data = b""
        while b"</stream:features>" not in data:
            chunk = s.recv(65536)
            self.assertTrue(chunk, "the stream ended before its features: %r" % data)
            data += chunk
        s.sendall(b"<db:result from='x.spam.test' to='a.test'>0123456789abcdef</db:result>")
        text = data.decode() + read_until_closed(s)
        self.assertIn("<policy-violation", text)
        self.assertIn("x.spam.test is blocked here (blocklist line 4: *.spam.test)", text)
        self.assertTrue(text.endswith("</stream:stream>"), text)
        self.wait_metric(CLOSED_BLOCKED, closed + 1, "the db:result's blocked close to be counted")

    def test_3_a_listed_partner_under_a_wildcard_is_not_blocked(self):
        blocked = self.metrics()[BLOCKED_IN]
        ok = self.peer("ok.spam.test")  # STARTTLS and SASL EXTERNAL go through
        self.relay_in(ok, "ok-in1")
        self.a.wait_log("relayed in ok.spam.test: message from='bob@ok.spam.test/x'")
        # Outbound too: fedgate looks it up and connects.
        self.internal.send("ok.spam.test", message("alice@a.test/desk", "bob@ok.spam.test", "ok-out1"))
        wait_for(self.ok_listener.poll, 15, "fedgate to connect to ok.spam.test")
        self.assertEqual(self.metrics()[BLOCKED_IN], blocked)
        self.assertFalse([e for e in self.bounces("ok-out") if error_condition(e) == "not-allowed"])

    def test_4_stanzas_to_a_blocked_domain_bounce_with_not_allowed_and_nothing_connects(self):
        before = self.metrics()[BLOCKED_OUT]
        count = 5
        ids = ["bad-out%d" % i for i in range(count)]
        for ident in ids:
            self.internal.send("bad.test", message("alice@a.test/desk", "bob@bad.test", ident))
        wait_for(lambda: len(self.bounces("bad-out")) >= count, 15, "%d bounces from bad.test" % count)
        got = self.bounces("bad-out")
        self.assertEqual(sorted(e.get("id") for e in got), sorted(ids), "one bounce each")
        for e in got:
            self.assert_not_allowed(e, "bad.test", 2, "bad.test", e.get("id"))
        self.wait_metric(BLOCKED_OUT, before + count, "fedgate_blocked_total{direction=out}")
        # No connection, not even a DNS query, for bad.test.
        self.assertEqual(self.bad_listener.poll(), 0, "fedgate connected to bad.test")
        self.assertEqual(self.dns_queries_for("bad.test"), [])
        self.assertNotIn("a.test -> bad.test", self.a.log_text())
        self.assertEqual(self.metrics()[BLOCKED_OUT], before + count)

    def test_5_a_changed_file_is_read_again_and_a_broken_one_is_not_taken(self):
        # late.test's stream is up and authenticated.
        late = self.peer("late.test")
        self.relay_in(late, "late-in1")
        metrics = self.metrics()
        closed, blocked_in, blocked_out = metrics[CLOSED_BLOCKED], metrics[BLOCKED_IN], metrics[BLOCKED_OUT]
        reads_ok, reads_error = metrics[READS_OK], metrics[READS_ERROR]

        # late.test is added (line 5): its stream ends with <policy-violation/>.
        write_atomically(self.blocklist_path, BLOCKLIST + ["late.test"])
        text = late.buffer + read_stream_error(late.sock)
        self.assertIn("<policy-violation", text)
        self.assertIn("late.test is blocked here (blocklist line 5: late.test)", text)
        self.assertTrue(text.endswith("</stream:stream>"), text)
        self.a.wait_log("blocklist %s read again: 2 domains, 1 wildcards" % self.blocklist_path)
        self.wait_metric(READS_OK, reads_ok + 1, "the good read to be counted")
        self.wait_metric(CLOSED_BLOCKED, closed + 1, "the stream of late.test to be closed as blocked")
        self.wait_metric(BLOCKED_IN, blocked_in + 1, "the stream of late.test to be counted as blocked")
        metrics = self.metrics()
        self.assertEqual((metrics[ENTRIES_DOMAIN], metrics[ENTRIES_WILDCARD]), (2, 1))
        self.assertEqual(metrics[READS_ERROR], reads_error)
        # The new list applies to new streams and to what goes out.
        self.assert_blocked_text(self.refused_at_header("late.test"), "late.test", 5, "late.test")
        self.internal.send("late.test", message("alice@a.test/desk", "bob@late.test", "late-out1"))
        bounce = self.internal.wait_stanza(lambda e: e.get("id") == "late-out1" and e.get("type") == "error",
                                           what="the bounce of late-out1")
        self.assert_not_allowed(bounce, "late.test", 5, "late.test", "late-out1")
        self.wait_metric(BLOCKED_OUT, blocked_out + 1, "the stanza to late.test to be counted as blocked")
        self.wait_metric(CLOSED_BLOCKED, closed + 2, "the refused stream of late.test to be counted")

        # A broken line (line 6): logged, counted, and the previous list stays.
        write_atomically(self.blocklist_path, BLOCKLIST + ["late.test", "bad domain with spaces"])
        error_line = "blocklist not read again, the previous one stays: %s:6: error: " % self.blocklist_path
        self.a.wait_log(error_line)
        broken_at = time.monotonic()
        self.wait_metric(READS_ERROR, reads_error + 1, "the broken read to be counted")
        metrics = self.metrics()
        self.assertEqual(metrics[READS_OK], reads_ok + 1)
        self.assertEqual((metrics[ENTRIES_DOMAIN], metrics[ENTRIES_WILDCARD]), (2, 1))
        self.assert_blocked_text(self.refused_at_header("late.test"), "late.test", 5, "late.test")
        self.assert_blocked_text(self.refused_at_header("bad.test"), "bad.test", 2, "bad.test")
        self.assert_blocked_text(self.refused_at_header("x.spam.test"), "x.spam.test", 4, "*.spam.test")
        self.relay_in(self.peer("ok.spam.test"), "ok-in2")
        self.wait_metric(CLOSED_BLOCKED, closed + 5, "the three refused streams to be counted")
        # Said once for that change, not at every refresh: at least two of
        # them (1 s apart) have passed.
        time.sleep(max(0.0, 2.5 - (time.monotonic() - broken_at)))
        self.assertEqual(self.a.log_text().count(error_line), 1)
        self.assertEqual(self.metrics()[READS_ERROR], reads_error + 1)

        # Repaired without late.test: it may federate again.
        write_atomically(self.blocklist_path, BLOCKLIST)
        self.wait_metric(READS_OK, reads_ok + 2, "the repaired file to be read")
        metrics = self.metrics()
        self.assertEqual((metrics[ENTRIES_DOMAIN], metrics[ENTRIES_WILDCARD]), (1, 1))
        self.relay_in(self.peer("late.test"), "late-in2")
        self.assertEqual(self.metrics()[CLOSED_BLOCKED], closed + 5)

    # The session judges the header by the list of the moment its connection
    # was accepted; the router checks again when it authenticates.
    def test_5b_a_stream_accepted_before_a_change_is_held_to_the_new_list(self):
        reads_ok = self.metrics()[READS_OK]
        closed = self.metrics()[CLOSED_BLOCKED]
        closed_line = "closed: blocked: late.test is blocked here (blocklist line 5: late.test)"
        lines_before = self.a.log_text().count(closed_line)
        early = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(early.close)
        self.a.wait_log("127.0.0.1:%d opened" % early.getsockname()[1])
        self.addCleanup(self.put_back_the_list)
        write_atomically(self.blocklist_path, BLOCKLIST + ["late.test"])  # line 5
        self.wait_metric(READS_OK, reads_ok + 1, "the file with late.test to be read")
        # late.test negotiates on it: refused at its header, or at the latest
        # when it authenticates; never carried on.
        with mock.patch("socket.create_connection", return_value=early):
            try:
                peer = FakePeer(self.port, "late.test", "a.test", self.ws.pki)
            except (AssertionError, OSError) as e:
                text = str(e)  # "the stream ended; received: ..."
            else:
                self.addCleanup(peer.close)
                # The error may follow the authentication so closely that the
                # peer read it with it.
                if "</stream:stream>" in peer.buffer:
                    text = peer.buffer
                else:
                    try:
                        peer.send(message("bob@late.test/x", "alice@a.test", "early-in1"))
                    except OSError:
                        pass
                    text = peer.buffer + read_stream_error(peer.sock, timeout=8)
        # fedgate's log says so in any case: the fake peer throws away what it
        # read with <success/> when it restarts the stream, the error with it.
        wait_for(lambda: self.a.log_text().count(closed_line) > lines_before, 15, "the stream's close in the log")
        self.wait_metric(CLOSED_BLOCKED, closed + 1, "the stream's close to be counted as blocked")
        if "</stream:stream>" in text:
            self.assertIn("policy-violation", text)
            self.assertIn("late.test is blocked here (blocklist line 5: late.test)", text)
        else:
            self.assertTrue(text.startswith("the stream ended"), text)

    def put_back_the_list(self):
        """The file as at start, read again."""
        reads_ok = self.metrics()[READS_OK]
        write_atomically(self.blocklist_path, BLOCKLIST)
        self.wait_metric(READS_OK, reads_ok + 1, "the file as at start to be read")

    def test_6_an_outbound_stream_to_a_newly_blocked_domain_stops(self):
        cls = type(self)
        metrics = self.metrics()
        reads_ok = metrics[READS_OK]
        cls.blocked_out_before_6 = metrics[BLOCKED_OUT]
        self.internal.send("out.test", message("alice@a.test/desk", "bob@out.test", "out-held1"))
        wait_for(lambda: self.out_holder.poll() and b"<stream:stream" in self.out_holder.data[self.out_holder.conns[0]][0],
                 15, "fedgate's stream header to out.test")
        self.assertEqual(self.bounces("out-held"), [], "held while the stream negotiates")
        write_atomically(self.blocklist_path, BLOCKLIST + ["out.test"])  # line 5
        self.wait_metric(READS_OK, reads_ok + 1, "the file with out.test to be read")
        conn = self.out_holder.conns[0]
        # The stream error at once; the connection after fedgate's wait for
        # our </stream:stream> (which never comes).
        wait_for(lambda: self.out_holder.poll() and b"</stream:stream>" in self.out_holder.data[conn][0], 10,
                 "fedgate's stream error to out.test")
        text = self.out_holder.data[conn][0].decode()
        self.assertIn("<policy-violation", text)
        self.assertIn("out.test is blocked here (blocklist line 5: out.test)", text)
        self.assertTrue(text.endswith("</stream:stream>"), text)
        self.a.wait_log("stream a.test -> out.test stopped: out.test is blocked here (blocklist line 5: out.test)")
        wait_for(lambda: self.out_holder.poll() and self.out_holder.data[conn][1], 20,
                 "fedgate to close its connection to out.test")
        # The stanza it held comes back to its sender, naming the blocklist
        # (its condition: test_6b).
        bounce = self.internal.wait_stanza(lambda e: e.get("id") == "out-held1" and e.get("type") == "error",
                                           what="the bounce of the held stanza")
        cls.held_bounce = bounce
        self.assertEqual((bounce.get("from"), bounce.get("to")), ("bob@out.test", "alice@a.test/desk"))
        self.assertIn("out.test is blocked here (blocklist line 5: out.test)",
                      "".join(c.text or "" for c in bounce.find("error")))
        # What comes next is refused at once, and nothing connects again.
        before = self.metrics()[BLOCKED_OUT]
        self.internal.send("out.test", message("alice@a.test/desk", "bob@out.test", "out-after1"))
        bounce = self.internal.wait_stanza(lambda e: e.get("id") == "out-after1" and e.get("type") == "error",
                                           what="the bounce of out-after1")
        self.assert_not_allowed(bounce, "out.test", 5, "out.test", "out-after1")
        self.wait_metric(BLOCKED_OUT, before + 1, "the stanza to out.test to be counted as blocked")
        self.assertEqual(self.out_holder.poll(), 1, "fedgate connected to out.test again")
        cls.blocked_out_after_6 = self.metrics()[BLOCKED_OUT]
        write_atomically(self.blocklist_path, BLOCKLIST)
        self.wait_metric(READS_OK, reads_ok + 2, "the file without out.test to be read")

    # What a link holds when its domain becomes blocked is refused as a stanza
    # sent then would be: <not-allowed/>, one count each.
    def test_6b_the_stanza_held_for_a_newly_blocked_domain_bounces_as_blocked(self):
        held = getattr(type(self), "held_bounce", None)
        self.assertIsNotNone(held, "test_6 did not get the held stanza's bounce")
        self.assert_not_allowed(held, "out.test", 5, "out.test", "out-held1")
        # out-held1 and out-after1: two stanzas to a blocked domain.
        self.assertEqual(self.blocked_out_after_6, self.blocked_out_before_6 + 2)

    def test_7_check_config_and_run_refuse_a_broken_blocklist_at_its_own_line(self):
        # A configuration of its own: A's, on other ports, socket and state.
        state = os.path.join(self.ws.dir, "check-state")
        os.makedirs(state, exist_ok=True)
        replaced = {"s2s_listen": '["127.0.0.1:%d"]' % free_port(), "listen": '"127.0.0.1:%d"' % free_port(),
                    "socket": '"%s"' % os.path.join(self.ws.dir, "check.control.sock"), "state_dir": '"%s"' % state}
        common = [l.split(" = ")[0] + " = " + replaced[l.split(" = ")[0]] if l.split(" = ")[0] in replaced else l
                  for l in self.a.common]

        def config(name, blocklist_lines):
            with open(os.path.join(self.ws.dir, name + ".txt"), "w") as f:
                f.write("\n".join(blocklist_lines) + "\n")
            path = os.path.join(self.ws.dir, name + ".toml")
            with open(path, "w") as f:
                f.write("\n".join(common + ["[blocklist]", 'file = "%s.txt"' % name, "refresh_seconds = 1"]) + "\n")
            return path

        good = subprocess.run([BINARY, "check-config", "-c", config("good-blocklist", BLOCKLIST)],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertIn("blocklist:          %s, read again within 1 s of a change"
                      % os.path.join(self.ws.dir, "good-blocklist.txt"), good.stdout)

        bad = config("bad-blocklist", ["# line 1", "bad.test", "bad domain with spaces", "*.spam.test"])
        checked = subprocess.run([BINARY, "check-config", "-c", bad], capture_output=True, text=True, timeout=60)
        self.assertEqual(checked.returncode, 1, checked.stdout + checked.stderr)
        self.assertIn("%s:3: error: " % os.path.join(self.ws.dir, "bad-blocklist.txt"), checked.stderr)
        self.assertIn("holds a space", checked.stderr)
        self.assertEqual(checked.stdout, "")

        ran = subprocess.run([BINARY, "run", "-c", bad], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(ran.returncode, 0, ran.stdout + ran.stderr)
        self.assertIn("bad-blocklist.txt:3: error: ", ran.stdout + ran.stderr)
        self.assertNotIn("running", ran.stdout + ran.stderr)

    def test_8_with_refresh_seconds_0_the_file_is_read_again_at_reload_only(self):
        # Gateway C: a.test again on a port of its own, late.test its partner,
        # its blocklist never refreshed on its own.
        internal = ComponentServer("component-secret-of-c")
        self.addCleanup(internal.stop)
        path = os.path.join(self.ws.dir, "blocklist-c.txt")
        write_atomically(path, BLOCKLIST)
        port = free_port()
        c = BlocklistGateway(self.ws, "C", "a.test", [dict(domain="late.test", **SASL_ONLY)], internal,
                             self.dns.port, port, metrics_port=free_port(),
                             blocklist=["[blocklist]", 'file = "blocklist-c.txt"', "refresh_seconds = 0"])
        self.addCleanup(c.kill)
        internal.wait_links(["late.test"], c)

        def late_gets_in(ident):
            peer = FakePeer(port, "late.test", "a.test", self.ws.pki)
            self.addCleanup(peer.close)
            peer.send(message("bob@late.test/x", "alice@a.test", ident))
            internal.wait_stanza(has_id(ident), what="late.test's message " + ident)
            return peer

        up = [late_gets_in("c-in1")]
        write_atomically(path, BLOCKLIST + ["late.test"])
        # Not read on its own: 2.5 s is two and a half of the router's ticks.
        changed_at = time.monotonic()
        up.append(late_gets_in("c-in2"))
        time.sleep(max(0.0, 2.5 - (time.monotonic() - changed_at)))
        up.append(late_gets_in("c-in3"))
        self.assertEqual(c.scrape()[ENTRIES_DOMAIN], 1)
        self.assertNotIn("read again", c.log_text())
        # SIGHUP reads it.
        before = c.log_text().count("SIGHUP received")
        c.signal(signal.SIGHUP)
        wait_for(lambda: c.log_text().count("SIGHUP received") > before and
                 "reloaded:" in c.log_text().split("SIGHUP received")[-1], 15, "the reload")
        wait_for(lambda: c.scrape()[ENTRIES_DOMAIN] == 2, 10, "the reloaded list in the gauge")
        # Every stream up ends, and a new one is refused.
        for peer in up:
            text = peer.buffer + read_stream_error(peer.sock)
            self.assertIn("<policy-violation", text)
            self.assertIn("late.test is blocked here (blocklist line 5: late.test)", text)
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(s.close)
        s.sendall((HEADER % " from='late.test'").encode())
        self.assert_blocked_text(read_stream_error(s), "late.test", 5, "late.test")


if __name__ == "__main__":
    unittest.main(verbosity=2)
