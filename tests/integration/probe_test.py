"""Integration tests of `fedgate probe` (issue 20 §3): the probe runs fedgate's
own resolver and outbound negotiation against a second fedgate (healthy: SASL
EXTERNAL), a scripted peer that offers no TLS, and an SRV record pointing at a
closed port, all found through a real dnsmasq; and its exit statuses.
Run: python3 tests/integration/probe_test.py
(FEDGATE_BINARY names the binary; default build/daemon/fedgate)."""

import json
import os
import socket
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lab import SOURCE, ComponentServer, Dnsmasq, Gateway, Workspace, free_port, srv_records  # noqa: E402
from two_gateways import ClassLab  # noqa: E402

BINARY = os.environ.get("FEDGATE_BINARY", os.path.join(SOURCE, "build/daemon/fedgate"))


class PlaintextPeer:
    """A scripted server for plain.test: opens its stream and offers dialback
    only, no STARTTLS; then waits for the other side to close."""

    def __init__(self):
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    data = b""
                    while b"<stream:stream" not in data or not data.rstrip().endswith(b">"):
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                                 b"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
                                 b"from='plain.test' id='plain-1' version='1.0'><stream:features>"
                                 b"<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"
                                 b"</stream:features>")
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass

    def stop(self):
        self.listener.close()


class Probe(ClassLab, unittest.TestCase):
    """B (b.test) is a fedgate for which a.test is a partner; closed.test's SRV
    record names a port nothing listens on; plain.test is a scripted peer
    without TLS. The probe runs with A's configuration (a.test), whose partners
    are b.test, closed.test and plain.test, all tls = "required"."""

    @classmethod
    def start(cls):
        cls.ws = Workspace(["a.test", "b.test"])
        cls.plain = PlaintextPeer()
        b_port, a_port, closed_port = free_port(), free_port(), free_port()
        records = (srv_records("a.test", a_port) + srv_records("b.test", b_port) +
                   srv_records("closed.test", closed_port) + srv_records("plain.test", cls.plain.port))
        cls.dns = Dnsmasq(records, os.path.join(cls.ws.dir, "dnsmasq.log"))
        cls.internal_b = ComponentServer("component-secret-of-b")
        policy = {"tls": "required", "sasl": "optional", "dialback": True}
        cls.b = Gateway(cls.ws, "B", "b.test", [dict(domain="a.test", **policy)], cls.internal_b, cls.dns.port, b_port)
        cls.internal_b.wait_links(["a.test"], cls.b)
        # A is not started: the probe reads its configuration only.
        cls.config = cls.config_for(a_port, [dict(domain=d, **policy) for d in ("b.test", "closed.test", "plain.test")])

    @classmethod
    def config_for(cls, port, partners):
        """A's configuration without starting A: B's sections with a.test as the
        local domain (the secrets and ports do not matter to a probe)."""
        cls.a_port = port
        path = os.path.join(cls.ws.dir, "A.toml")
        with open(cls.b.config_path) as f:
            common = f.read().split("[[partner]]")[0]
        for theirs, ours in (('name = "b.test"', 'name = "a.test"'), ("/b.test.crt", "/a.test.crt"),
                             ("/b.test.key", "/a.test.key")):
            common = common.replace(theirs, ours)
        lines = [common.rstrip("\n")]
        for p in partners:
            lines += ["[[partner]]", 'domain = "%s"' % p["domain"], 'type = "federated"',
                      'tls = "%s"' % p["tls"], 'sasl = "%s"' % p["sasl"],
                      "dialback = %s" % ("true" if p["dialback"] else "false")]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "plain", None) is not None:
            cls.plain.stop()
        super().tearDownClass()

    def probe(self, *args):
        done = subprocess.run([BINARY, "probe", *args], capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr

    def probe_json(self, domain):
        rc, out, err = self.probe(domain, "-c", self.config, "--json")
        self.assertEqual(err, "")
        report = json.loads(out)
        self.assertEqual(report["version"], 1)
        return rc, report, {s["stage"]: s for s in report["steps"]}

    def test_a_healthy_partner_negotiates_sasl_external(self):
        rc, report, steps = self.probe_json("b.test")
        self.assertEqual(rc, 0, report)
        self.assertEqual(report["method"], "sasl-over-tls")
        self.assertEqual(steps["tcp"]["reason"], "connected")
        self.assertEqual(steps["tls"]["reason"], "tls-established")
        self.assertEqual(steps["certificate"]["reason"], "certificate-valid")
        self.assertIn("b.test", steps["certificate"]["facts"]["dns_ids"])
        self.assertEqual(steps["authentication"]["facts"]["sasl_external"], "success")
        # Nothing was sent: B saw a stream authenticated, and no stanza.
        self.b.wait_log("a.test -> b.test authenticated by SASL over TLS")
        self.assertEqual(self.internal_b.received, [])

    def test_the_text_report_ends_with_the_result(self):
        rc, out, _ = self.probe("b.test", "-c", self.config)
        self.assertEqual(rc, 0)
        self.assertIn("[certificate] ok: valid for b.test (", out)
        self.assertIn("Result: fedgate would negotiate SASL over TLS with b.test.", out)

    def test_an_srv_record_pointing_at_a_closed_port(self):
        rc, report, steps = self.probe_json("closed.test")
        self.assertEqual(rc, 1)
        self.assertEqual(steps["tcp"]["outcome"], "failed")
        self.assertEqual(steps["tcp"]["reason"], "connection-refused")
        self.assertIn("closed port", steps["tcp"]["advice"])
        self.assertEqual(steps["authentication"]["reason"], "unreachable")

    def test_a_peer_offering_no_tls_while_the_policy_requires_it(self):
        rc, report, steps = self.probe_json("plain.test")
        self.assertEqual(rc, 1)
        self.assertEqual(steps["tls"]["outcome"], "failed")
        self.assertEqual(steps["tls"]["reason"], "tls-not-offered")
        self.assertIn('tls = "optional"', steps["tls"]["advice"])
        self.assertEqual(steps["authentication"]["reason"], "tls-not-offered")
        self.assertNotIn("certificate", steps)

    def test_a_domain_that_is_not_a_partner(self):
        config = self.config_for(self.a_port, [dict(domain="closed.test", tls="required", sasl="optional",
                                                    dialback=True)])
        try:
            rc, out, _ = self.probe("b.test", "-c", config, "--json")
            report = json.loads(out)
            self.assertEqual(rc, 1)
            self.assertIsNone(report["partner"])
            self.assertEqual(report["steps"][-1]["reason"], "not-a-partner")
            self.assertEqual(len(report["alternatives"]), 11)
            sasl = [a for a in report["alternatives"] if a["method"] == "sasl-over-tls"]
            self.assertTrue(sasl, "a policy allowing SASL over TLS would get it from B")
        finally:
            self.config_for(self.a_port, [dict(domain=d, tls="required", sasl="optional", dialback=True)
                                          for d in ("b.test", "closed.test", "plain.test")])

    def test_usage_errors_exit_2(self):
        self.assertEqual(self.probe("b.test", "-c", self.config, "--from", "nowhere.test")[0], 2)
        self.assertEqual(self.probe("b.test", "-c", os.path.join(self.ws.dir, "missing.toml"))[0], 2)
        self.assertEqual(self.probe("-c", self.config)[0], 2)


if __name__ == "__main__":
    unittest.main()
