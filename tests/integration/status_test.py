"""`fedgate status` from the operator's side (issue 20 §2): the running daemon
answers on its control socket with the status document; the command prints a
row per partner or the JSON, and its exit status says healthy (0), failing (1)
or not reachable (2)."""

import json
import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lab import ComponentServer, Dnsmasq, Gateway, Workspace, free_port, srv_records, wait_for  # noqa: E402
from federation_test import has_id, message  # noqa: E402

SASL = {"tls": "required", "sasl": "required", "dialback": False}


class Status(unittest.TestCase):
    def setUp(self):
        # b.test behind B; c.test's SRV record names a port nobody listens on.
        self.ws = Workspace(["a.test", "b.test", "c.test"])
        self.addCleanup(self.ws.remove)
        ports = {"a": free_port(), "b": free_port(), "closed": free_port()}
        self.dns = Dnsmasq(srv_records("a.test", ports["a"]) + srv_records("b.test", ports["b"]) +
                           srv_records("c.test", ports["closed"]), os.path.join(self.ws.dir, "dnsmasq.log"))
        self.addCleanup(self.dns.stop)
        self.internal_a = ComponentServer("component-secret-of-a")
        self.internal_b = ComponentServer("component-secret-of-b")
        self.addCleanup(self.internal_a.stop)
        self.addCleanup(self.internal_b.stop)
        self.a = Gateway(self.ws, "A", "a.test",
                         [dict(domain="b.test", **SASL), dict(domain="c.test", description="closed port", **SASL)],
                         self.internal_a, self.dns.port, ports["a"])
        self.b = Gateway(self.ws, "B", "b.test", [dict(domain="a.test", **SASL)], self.internal_b, self.dns.port,
                         ports["b"])
        self.addCleanup(self.a.kill)
        self.addCleanup(self.b.kill)
        self.internal_a.wait_links(["b.test", "c.test"], self.a)
        self.internal_b.wait_links(["a.test"], self.b)

    def status_document(self):
        rc, out, err = self.a.status("--json")
        self.assertIn(rc, (0, 1), err)
        document = json.loads(out)
        return rc, document, {p["domain"]: p for p in document["partners"]}

    def test_healthy_idle_and_failing_partners(self):
        # Before any traffic: both partners idle, exit 0.
        rc, document, partners = self.status_document()
        self.assertEqual(rc, 0)
        self.assertEqual(document["version"], 1)
        self.assertTrue(document["healthy"])
        self.assertEqual(document["daemon"]["pid"], self.a.process.pid)
        self.assertTrue(document["daemon"]["store_up"])
        self.assertEqual(sorted(partners), ["b.test", "c.test"])
        self.assertEqual(partners["b.test"]["health"], "idle")
        self.assertEqual(partners["c.test"]["description"], "closed port")
        self.assertEqual(partners["b.test"]["policy"], {"tls": "required", "sasl": "required", "dialback": False})
        self.assertEqual(partners["b.test"]["outbound"]["last_failure"], None)

        # A message to b.test: its outbound stream comes up by SASL EXTERNAL.
        self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "m1"))
        self.internal_b.wait_stanza(has_id("m1"))
        wait_for(lambda: self.status_document()[2]["b.test"]["outbound"]["up"], 10, "b.test's outbound stream up")
        rc, document, partners = self.status_document()
        self.assertEqual(rc, 0)
        out = partners["b.test"]["outbound"]
        self.assertEqual(out["health"], "up")
        self.assertEqual(out["method"], "sasl-over-tls")
        self.assertEqual(out["last_success"]["method"], "sasl-over-tls")
        self.assertEqual(out["last_attempt"]["stages"]["certificate"]["result"], "succeeded")
        self.assertEqual(out["last_attempt"]["tls"]["version"][:5], "TLSv1")
        self.assertIn("b.test", " ".join(out["last_attempt"]["dns"]["srv_answers"]))
        # The certificate B presented is in the inventory.
        self.assertEqual(len(partners["b.test"]["certificates"]), 1)
        self.assertIn("DNS:b.test", partners["b.test"]["certificates"][0]["subject_alt_names"])
        self.assertIsNotNone(partners["b.test"]["certificate_expires"])

        # A message to c.test: nobody listens on its port, so it fails at tcp, exit 1.
        self.internal_a.send("c.test", message("alice@a.test/desk", "carol@c.test", "m2"))
        wait_for(lambda: self.status_document()[2]["c.test"]["health"] == "failing", 15, "c.test failing")
        rc, document, partners = self.status_document()
        self.assertEqual(rc, 1)
        self.assertFalse(document["healthy"])
        failure = partners["c.test"]["outbound"]["last_failure"]
        self.assertEqual(failure["stage"], "tcp")
        self.assertEqual(failure["reason"], "connection_refused")
        self.assertTrue(failure["advice"])
        self.assertEqual(partners["b.test"]["health"], "up")

        # The table says the same, with the advice under it.
        rc, text, err = self.a.status()
        self.assertEqual(rc, 1, err)
        lines = text.splitlines()
        self.assertRegex(lines[0], r"^fedgate \d+\.\d+\.\d+ \(pid %d\)" % self.a.process.pid)
        self.assertRegex(lines[1], r"^PARTNER +TYPE +TLS/SASL/DIALBACK +INBOUND +OUTBOUND +QUEUED")
        row = {line.split()[0]: line for line in lines[2:4]}
        self.assertIn("up sasl-over-tls", row["b.test"])
        self.assertIn("failing: tcp", row["c.test"])
        self.assertIn("c.test outbound: failed at tcp (connection_refused)", text)

    def test_the_socket_is_the_groups_and_goes_with_the_daemon(self):
        mode = stat.S_IMODE(os.stat(self.a.control_socket).st_mode)
        self.assertEqual(mode, 0o660)
        self.assertTrue(stat.S_ISSOCK(os.stat(self.a.control_socket).st_mode))
        self.assertEqual(self.a.terminate(), 0)
        self.assertFalse(os.path.exists(self.a.control_socket))
        rc, out, err = self.a.status()
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("no fedgate answers on %s" % self.a.control_socket, err)

    def test_a_second_instance_on_the_same_socket_runs_without_one(self):
        internal_c = ComponentServer("component-secret-of-c")
        self.addCleanup(internal_c.stop)
        c = Gateway(self.ws, "C", "c.test", [dict(domain="a.test", **SASL)], internal_c, self.dns.port, free_port(),
                    control_socket=self.a.control_socket)
        self.addCleanup(c.kill)
        internal_c.wait_links(["a.test"], c)
        self.assertIn("no control socket: another process answers on %s" % self.a.control_socket, c.log_text())
        # A still answers, and C's stop leaves A's socket alone.
        self.assertEqual(c.terminate(), 0)
        rc, document, partners = self.status_document()
        self.assertEqual(document["daemon"]["pid"], self.a.process.pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
