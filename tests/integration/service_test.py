"""`fedgate run` as a system service (issue 9): what it tells systemd through
NOTIFY_SOCKET (READY, WATCHDOG, RELOADING, STOPPING), and SIGHUP reloads that
keep established streams and lose no stanza, refuse an invalid configuration,
and close the streams of a partner that was removed."""

import os
import re
import signal
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from lab import ComponentServer, Dnsmasq, Gateway, Workspace, free_port, srv_records, wait_for  # noqa: E402
from federation_test import has_id, message  # noqa: E402
from two_gateways import error_condition  # noqa: E402

SASL = {"tls": "required", "sasl": "required", "dialback": False}


class NotifySocket:
    """A stand-in for systemd's notification socket."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []

    def collect(self):
        try:
            while True:
                self.messages.append(self.sock.recv(4096).decode())
        except socket.timeout:
            pass
        return self.messages

    def wait(self, text, timeout=10):
        return wait_for(lambda: [m for m in self.collect() if text in m], timeout, "%r on the notify socket" % text)


class Notifications(unittest.TestCase):
    def test_ready_watchdog_reloading_stopping(self):
        ws = Workspace(["a.test"])
        self.addCleanup(ws.remove)
        dns = Dnsmasq(srv_records("a.test", free_port()), os.path.join(ws.dir, "dnsmasq.log"))
        self.addCleanup(dns.stop)
        internal = ComponentServer("component-secret-of-a")
        self.addCleanup(internal.stop)
        notify = NotifySocket(ws.dir)
        a = Gateway(ws, "A", "a.test", [dict(domain="b.test", **SASL)], internal, dns.port, free_port(),
                    env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"})
        self.addCleanup(a.kill)
        notify.wait("READY=1")
        # READY comes after the component links were set up.
        self.assertIn("component link for b.test ready", a.log_text())
        time.sleep(1)
        self.assertGreaterEqual(sum("WATCHDOG=1" in m for m in notify.collect()), 3)
        a.signal(signal.SIGHUP)
        notify.wait("RELOADING=1")
        wait_for(lambda: sum("READY=1" in m for m in notify.collect()) >= 2, 10, "READY after the reload")
        self.assertEqual(a.terminate(), 0)
        notify.wait("STOPPING=1")
        order = [m.split("\n")[0] for m in notify.messages if "WATCHDOG" not in m]
        self.assertEqual(order, ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"])


class TwoGateways:
    """a.test behind A (which serves [metrics]) and b.test behind B, partners."""

    def setUp(self):
        self.ws = Workspace(["a.test", "b.test"])
        self.addCleanup(self.ws.remove)
        ports = {"a": free_port(), "b": free_port()}
        self.dns = Dnsmasq(srv_records("a.test", ports["a"]) + srv_records("b.test", ports["b"]),
                           os.path.join(self.ws.dir, "dnsmasq.log"))
        self.addCleanup(self.dns.stop)
        self.internal_a = ComponentServer("component-secret-of-a")
        self.internal_b = ComponentServer("component-secret-of-b")
        self.addCleanup(self.internal_a.stop)
        self.addCleanup(self.internal_b.stop)
        self.a = Gateway(self.ws, "A", "a.test", [dict(domain="b.test", **SASL)], self.internal_a, self.dns.port,
                         ports["a"], metrics_port=free_port())
        self.b = Gateway(self.ws, "B", "b.test", [dict(domain="a.test", **SASL)], self.internal_b, self.dns.port,
                         ports["b"])
        self.addCleanup(self.a.kill)
        self.addCleanup(self.b.kill)
        self.internal_a.wait_links(["b.test"], self.a)
        self.internal_b.wait_links(["a.test"], self.b)


class Reload(TwoGateways, unittest.TestCase):
    def reload(self, partners, extra=()):
        before = self.a.log_text().count("SIGHUP received")
        self.a.write_config(partners, extra)
        self.a.signal(signal.SIGHUP)
        wait_for(lambda: self.a.log_text().count("SIGHUP received") > before and
                 ("reloaded:" in self.a.log_text().split("SIGHUP received")[-1] or
                  "reload refused" in self.a.log_text().split("SIGHUP received")[-1]), 10, "the reload")

    def test_a_reload_names_each_setting_that_takes_a_restart(self):
        def replaced(key, value):
            return [key + " = " + value if line.split(" = ")[0] == key else line for line in self.a.common]
        self.a.common = replaced("listen", '"127.0.0.1:%d"' % free_port())  # [metrics]
        self.a.common = replaced("socket", '"%s"' % os.path.join(self.ws.dir, "other.sock"))
        self.a.common = replaced("state_dir", '"%s"' % os.path.join(self.ws.dir, "other-state"))
        self.a.common += ["[store]", 'backend = "postgresql"', 'conninfo = "host=/nonexistent"']
        threads = next(int(line.split(" = ")[1]) for line in self.a.common if line.startswith("worker_threads = "))
        self.a.common = replaced("worker_threads", str(threads + 1))
        self.reload([dict(domain="b.test", **SASL)])
        reload_log = self.a.log_text().split("SIGHUP received")[-1]
        self.assertIn("reloaded:", reload_log)
        for setting in ("[metrics] listen changed", "[control] socket changed", "state_dir changed",
                        "[store] changed", "worker_threads changed"):
            self.assertRegex(reload_log, r" warning %s: that takes a restart" % re.escape(setting))
        # The running instance kept its metrics endpoint.
        self.assertIn("fedgate_build_info", urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % self.a.metrics_port, timeout=5).read().decode())

    def test_reload_keeps_streams_loses_nothing_refuses_bad_input_and_drops_removed_partners(self):
        # Traffic flows while a partner is added: nothing lost, the stream stays.
        count = 300

        def flow():
            for i in range(count):
                self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "r%d" % i))
                time.sleep(0.004)
        sender = threading.Thread(target=flow)
        sender.start()
        time.sleep(0.3)
        self.reload([dict(domain="b.test", **SASL), dict(domain="c.test", **SASL)])
        sender.join()
        self.internal_b.wait_stanza(has_id("r%d" % (count - 1)), what="the last stanza")
        seen = [e.get("id") for e in self.internal_b.received if (e.get("id") or "").startswith("r")]
        self.assertEqual(seen, ["r%d" % i for i in range(count)])
        self.assertIn("reloaded: partner domains added: c.test; removed: none", self.a.log_text())
        self.assertEqual(self.a.log_text().count("a.test -> b.test: b.test port"), 1, "the stream was reopened")
        self.internal_a.wait_links(["c.test"], self.a)

        # An invalid configuration changes nothing, with check-config's message.
        self.reload([dict(domain="b.test", **SASL)], extra=["[limits]", "bogus_setting = 1"])
        log = self.a.log_text()
        self.assertIn("reload refused", log)
        # check-config's finding, its level said once (by the log line's own level).
        self.assertRegex(log, r" error \S*A\.toml:\d+: this is not valid TOML: ")
        self.assertNotIn(": error: ", log)
        self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "after-bad-reload"))
        self.internal_b.wait_stanza(has_id("after-bad-reload"))

        # b.test removed: its streams end with <policy-violation/>, its link closes.
        self.reload([dict(domain="c.test", **SASL)])
        self.assertIn("reloaded: partner domains added: none; removed: b.test", self.a.log_text())
        self.b.wait_log("policy-violation")
        wait_for(lambda: all(l.closed for l in self.internal_a.links if l.domain == "b.test"), 10,
                 "the link for b.test to close")
        self.assertIsNotNone(self.internal_a.link("c.test"))
        self.assertRegex(self.a.log_text(), r"link#\d+ b\.test closed: done: b\.test is no longer a federation partner")

        # [log] level takes effect on reload: a new stream to b.test logs its
        # negotiation at debug level ("stream restarted") before, and not after.
        def debug_lines_of_a_new_stream(stanza_id):
            mark = len(self.a.log_text())
            self.reload([dict(domain="c.test", **SASL), dict(domain="b.test", **SASL)])
            self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", stanza_id))
            self.internal_b.wait_stanza(has_id(stanza_id))
            lines = self.a.log_text()[mark:].count(" debug ")
            # b.test's stream ends again, and has closed (with its last debug
            # line) before the next count begins.
            closes = self.a.log_text().count("a.test -> b.test closed:")
            self.reload([dict(domain="c.test", **SASL)])
            wait_for(lambda: self.a.log_text().count("a.test -> b.test closed:") > closes, 10, "b.test's stream to close")
            return lines
        self.assertGreater(debug_lines_of_a_new_stream("at-debug"), 0)
        self.a.common = [('level = "info"' if line == 'level = "debug"' else line) for line in self.a.common]
        self.assertEqual(debug_lines_of_a_new_stream("at-info"), 0)
        self.assertIn("log level info (was debug)", self.a.log_text())


def metric_families():
    """Every name in operations/metric_names.hpp, where fedgate names its metrics."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "operations", "metric_names.hpp")
    with open(header) as f:
        return re.findall(r'= "(fedgate_\w+)";', f.read())


class LocalDomainRemoved(unittest.TestCase):
    """A reload that drops one of A's local domains ends that domain's
    streams with <host-gone/> and lets nothing of it out any more; the other
    local domain's stream to the same partner stays up."""

    def setUp(self):
        self.ws = Workspace(["a.test", "a2.test", "b.test"])
        self.addCleanup(self.ws.remove)
        ports = {"a": free_port(), "b": free_port()}
        self.dns = Dnsmasq(srv_records("a.test", ports["a"]) + srv_records("a2.test", ports["a"]) +
                           srv_records("b.test", ports["b"]), os.path.join(self.ws.dir, "dnsmasq.log"))
        self.addCleanup(self.dns.stop)
        self.internal_a = ComponentServer("component-secret-of-a")
        self.internal_b = ComponentServer("component-secret-of-b")
        self.addCleanup(self.internal_a.stop)
        self.addCleanup(self.internal_b.stop)
        self.a = Gateway(self.ws, "A", "a.test", [dict(domain="b.test", **SASL)], self.internal_a, self.dns.port,
                         ports["a"], more_local_domains=["a2.test"])
        self.b = Gateway(self.ws, "B", "b.test", [dict(domain="a.test", additional_domains=["a2.test"], **SASL)],
                         self.internal_b, self.dns.port, ports["b"])
        self.addCleanup(self.a.kill)
        self.addCleanup(self.b.kill)
        self.internal_a.wait_links(["b.test"], self.a)
        self.internal_b.wait_links(["a.test", "a2.test"], self.b)

    def test_its_streams_end_and_its_stanzas_stay_in(self):
        self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "from-a") +
                             message("carol@a2.test/desk", "bob@b.test", "from-a2"))
        self.internal_b.wait_stanza(has_id("from-a"))
        self.internal_b.wait_stanza(has_id("from-a2"))
        before = self.a.log_text().count("SIGHUP received")
        self.a.common = [line for line in self.a.common if "a2.test" not in line]
        self.a.common = [line for i, line in enumerate(self.a.common)
                         if not (line == "[[local_domain]]" and i + 1 < len(self.a.common) and
                                 self.a.common[i + 1].startswith("[internal]"))]
        self.a.write_config([dict(domain="b.test", **SASL)])
        self.a.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded:" in self.a.log_text().split("SIGHUP received")[-1] and
                 self.a.log_text().count("SIGHUP received") > before, 10, "the reload")
        self.a.wait_log("a2.test is no longer served here")
        self.b.wait_log("host-gone")
        # Nothing of a2.test leaves any more; a.test's stream carries on.
        self.internal_a.send("b.test", message("carol@a2.test/desk", "bob@b.test", "after-a2") +
                             message("alice@a.test/desk", "bob@b.test", "after-a"))
        self.internal_b.wait_stanza(has_id("after-a"))
        time.sleep(0.5)
        self.assertEqual([e for e in self.internal_b.received if e.get("id") == "after-a2"], [])
        self.a.wait_log("stanza from carol@a2.test/desk to bob@b.test refused: a2.test is no longer served here")


class Metrics(TwoGateways, unittest.TestCase):
    def test_every_family_is_there_from_the_start(self):
        """An alert on an absent series never fires: each family, and each
        known partner's and direction's series, is there at zero before any
        traffic."""
        first = self.a.scrape()
        families = metric_families()
        self.assertGreater(len(families), 15)
        shown = {key.split("{")[0] for key in first}
        # Shown per partner that has a rate limit, and these have none.
        only_with_limits = {"fedgate_rate_limited_total"}
        self.assertEqual([f for f in families if f not in shown and f not in only_with_limits], [])
        for key in ('fedgate_stanzas_total{direction="in",partner="b.test"}',
                    'fedgate_stanzas_total{direction="out",partner="b.test"}',
                    'fedgate_stanza_bytes_total{direction="in",partner="b.test"}',
                    'fedgate_refusals_total{partner="b.test",reason="no_relationship"}',
                    'fedgate_stanzas_possibly_lost_total{partner="b.test"}',
                    'fedgate_stanzas_resent_total{partner="b.test",side="outbound"}',
                    'fedgate_stanzas_bounced_after_stream_loss_total{partner="b.test",side="internal"}',
                    'fedgate_stream_closes_total{direction="in",reason="certificate-invalid"}',
                    'fedgate_bounces_total{condition="remote-server-timeout"}',
                    'fedgate_dialback_verifications_total{result="invalid"}',
                    'fedgate_dns_resolutions_total{result="nxdomain"}',
                    'fedgate_connections_refused_total'):
            self.assertEqual(first.get(key), 0, key)
        info = [key for key in first if key.startswith("fedgate_build_info{")]
        self.assertEqual(len(info), 1, info)
        self.assertEqual(first[info[0]], 1)
        self.assertRegex(info[0], r'version="\d+\.\d+\.\d+",openssl="3\.[^"]+",expat="expat_2\.[^"]+"')

    def test_a_stanza_on_the_wrong_link_is_bounced_counted_and_logged(self):
        """The internal server routes a stanza for another domain to the
        component of b.test (ejabberd's global_routes does): the bounce goes
        back on that link, as every bounce, with a metric and a log line."""
        key = 'fedgate_bounces_total{condition="item-not-found"}'
        before = self.a.scrape()[key]
        self.internal_a.send("b.test", message("alice@a.test/desk", "carol@c.test", "astray"))
        bounce = self.internal_a.wait_stanza(lambda e: e.get("id") == "astray" and e.get("type") == "error",
                                             what="the bounce of the stray stanza")
        self.assertEqual(error_condition(bounce), "item-not-found")
        self.assertEqual(self.a.scrape()[key], before + 1)
        self.a.wait_log("bounced to alice@a.test/desk: a stanza the internal server sent on the link for b.test "
                        "was not for b.test")

    def test_values_move_as_traffic_flows(self):
        out = 'fedgate_stanzas_total{direction="out",partner="b.test"}'
        inbound = 'fedgate_stanzas_total{direction="in",partner="b.test"}'
        before = self.a.scrape()
        self.assertEqual(before['fedgate_streams{direction="component",state="established"}'], 1)
        self.assertEqual(before.get(out, 0), 0)
        for i in range(5):
            self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "m%d" % i))
        self.internal_b.wait_stanza(has_id("m4"))
        # B's answers take A's stream back (XEP-0288): one stream, A's.
        for i in range(3):
            self.internal_b.send("a.test", message("bob@b.test/phone", "alice@a.test/desk", "n%d" % i))
        self.internal_a.wait_stanza(has_id("n2"))
        after = self.a.scrape()
        self.assertEqual(after[out], 5)
        self.assertEqual(after[inbound], 3)
        # Each message is about 100 bytes on the wire.
        self.assertGreater(after['fedgate_stanza_bytes_total{direction="out",partner="b.test"}'], 5 * 80)
        self.assertGreater(after['fedgate_stanza_bytes_total{direction="in",partner="b.test"}'], 3 * 80)
        self.assertEqual(after['fedgate_streams{direction="out",state="established"}'], 1)
        self.assertEqual(after['fedgate_streams{direction="in",state="established"}'], 0)
        self.assertEqual(after['fedgate_bidi_streams_total{direction="out"}'], 1)
        self.assertEqual(after['fedgate_streams_authenticated_total{direction="out",method="sasl-over-tls"}'], 1)
        self.assertEqual(after['fedgate_dns_resolutions_total{result="ok"}'], 1)
        self.assertEqual(after['fedgate_queued_stanzas{side="outbound"}'], 0)
        # Only /metrics is served.
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen("http://127.0.0.1:%d/other" % self.a.metrics_port, timeout=5)
        self.assertEqual(refused.exception.code, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
