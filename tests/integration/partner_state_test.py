"""Integration tests of the partner state (issue 20 §1, §4): what /metrics says
of each partner and direction, stage by stage, and the certificates partners
present. Gateway A (a.test) federates with b.test (healthy, gateway B), with
wrong.test (whose SRV record leads to B's direct-TLS port: B presents b.test's
certificate), with closed.test (nothing listens on its port) and with idle.test
(never used). A's own certificate expires in 5 days, within the default
warning period of 14. Run: python3 tests/integration/partner_state_test.py
(FEDGATE_BINARY names the binary; default build/daemon/fedgate)."""

import os
import socket
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lab import ComponentServer, Dnsmasq, Gateway, Workspace, free_port, srv_records, wait_for  # noqa: E402
from two_gateways import ClassLab, has_id, message  # noqa: E402

SASL_ONLY = {"tls": "required", "sasl": "required", "dialback": False}
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
          "xmlns:stream='http://etherx.jabber.org/streams' from='%s' to='%s' version='1.0'>")


def reissue(pki, domain, days):
    """`domain`'s certificate again, from the workspace's CA, valid `days` days."""
    ext = os.path.join(pki, domain + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n" % domain)
    csr = os.path.join(pki, domain + ".csr")
    subprocess.run(["openssl", "req", "-new", "-key", os.path.join(pki, domain + ".key"), "-subj", "/CN=" + domain,
                    "-out", csr], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(pki, "ca.crt"), "-CAkey",
                    os.path.join(pki, "ca.key"), "-CAcreateserial", "-days", str(days), "-extfile", ext, "-out",
                    os.path.join(pki, domain + ".crt")], check=True, capture_output=True)


def key(name, **labels):
    return "%s{%s}" % (name, ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items())))


class PartnerState(ClassLab, unittest.TestCase):

    @classmethod
    def start(cls):
        cls.ws = Workspace(["a.test", "b.test"])
        reissue(cls.ws.pki, "a.test", 5)
        cls.port_a, b_plain, b_direct, closed = free_port(), free_port(), free_port(), free_port()
        records = (srv_records("a.test", cls.port_a) + srv_records("b.test", b_plain) +
                   srv_records("wrong.test", b_direct, direct_tls=True) + srv_records("closed.test", closed))
        cls.dns = Dnsmasq(records, os.path.join(cls.ws.dir, "dnsmasq.log"))
        cls.internal_a = ComponentServer("component-secret-of-a")
        cls.internal_b = ComponentServer("component-secret-of-b")
        partners = [dict(domain=d, **SASL_ONLY) for d in ("b.test", "wrong.test", "closed.test", "idle.test")]
        cls.a = Gateway(cls.ws, "A", "a.test", partners, cls.internal_a, cls.dns.port, cls.port_a,
                        metrics_port=free_port())
        cls.b = Gateway(cls.ws, "B", "b.test", [dict(domain="a.test", **SASL_ONLY)], cls.internal_b, cls.dns.port,
                        b_plain, direct_tls_port=b_direct, metrics_port=free_port())
        cls.internal_a.wait_links(["b.test", "wrong.test", "closed.test", "idle.test"], cls.a)
        cls.internal_b.wait_links(["a.test"], cls.b)

    def bounce_of(self, ident, recipient):
        self.internal_a.send(recipient.split("@")[1], message("alice@a.test/desk", recipient, ident))
        return self.internal_a.wait_stanza(lambda e: e.get("id") == ident and e.get("type") == "error",
                                           what="the bounce of " + ident)

    def test_every_partner_and_direction_is_shown_at_zero_from_start(self):
        metrics = self.a.scrape()
        for direction in ("in", "out"):
            labels = dict(partner="idle.test", direction=direction)
            self.assertEqual(metrics.get(key("fedgate_partner_up", **labels)), 0)
            self.assertEqual(metrics.get(key("fedgate_partner_last_success_timestamp_seconds", **labels)), 0)
            self.assertEqual(metrics.get(key("fedgate_partner_last_failure_timestamp_seconds", **labels)), 0)
            self.assertEqual(metrics.get(key("fedgate_partner_failures_total", stage="certificate",
                                             reason="name_mismatch", **labels)), 0)
        self.assertEqual(metrics.get(key("fedgate_partner_failures_total", partner="idle.test", direction="out",
                                         stage="dns", reason="nxdomain")), 0)
        self.assertEqual(metrics.get(key("fedgate_peer_certificate_expiry_timestamp_seconds", partner="idle.test")), 0)

    def test_a_healthy_partner_goes_up_with_its_certificate_in_the_inventory(self):
        self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "up1"))
        self.internal_b.wait_stanza(has_id("up1"), what="the message to b.test")
        labels = dict(partner="b.test", direction="out")
        wait_for(lambda: self.a.scrape().get(key("fedgate_partner_up", **labels)) == 1, 10, "b.test to be up")
        metrics = self.a.scrape()
        self.assertGreater(metrics[key("fedgate_partner_last_success_timestamp_seconds", **labels)], time.time() - 60)
        expiry = metrics[key("fedgate_peer_certificate_expiry_timestamp_seconds", partner="b.test")]
        self.assertGreater(expiry, time.time() + 800 * 86400, "make-demo-certs issues them for 825 days")
        self.a.wait_log("[tls] partner b.test presented the certificate CN=b.test")
        # Debug level (the lab's): one line per relayed stanza, on each side.
        self.a.wait_log("relayed out b.test: message from='alice@a.test/desk' to='bob@b.test' id='up1' ")
        self.b.wait_log("relayed in a.test: message from='alice@a.test/desk' to='bob@b.test' id='up1' ")
        # Both headers of a stream, each as what it is.
        self.a.wait_log("stream header sent: from='a.test' to='b.test'\n")
        self.a.wait_log("stream header received: from='b.test' to='a.test' id=")

    def test_a_certificate_for_another_domain_fails_at_the_certificate_stage(self):
        self.bounce_of("wrong1", "bob@wrong.test")  # B answers <host-unknown/> after TLS: retried, then bounced
        labels = dict(partner="wrong.test", direction="out")
        failures = key("fedgate_partner_failures_total", stage="certificate", reason="name_mismatch", **labels)
        wait_for(lambda: self.a.scrape().get(failures, 0) >= 1, 10, "the certificate failure to be counted")
        metrics = self.a.scrape()
        self.assertEqual(metrics[key("fedgate_partner_up", **labels)], 0)
        self.assertGreater(metrics[key("fedgate_partner_last_failure_timestamp_seconds", **labels)], time.time() - 60)
        # What it presented is in the inventory all the same: B's certificate.
        self.assertGreater(metrics[key("fedgate_peer_certificate_expiry_timestamp_seconds", partner="wrong.test")], 0)

    def test_a_closed_port_fails_at_the_tcp_stage_as_refused(self):
        self.bounce_of("closed1", "bob@closed.test")
        failures = key("fedgate_partner_failures_total", partner="closed.test", direction="out", stage="tcp",
                       reason="connection_refused")
        wait_for(lambda: self.a.scrape().get(failures, 0) >= 1, 10, "the refused connection to be counted")
        self.assertEqual(self.a.scrape()[key("fedgate_partner_failures_total", partner="closed.test", direction="out",
                                             stage="dns", reason="nxdomain")], 0)

    def test_an_inbound_stream_with_a_certificate_for_another_domain_fails_at_the_certificate_stage(self):
        s = socket.create_connection(("127.0.0.1", self.port_a), timeout=10)
        s.sendall((HEADER % ("wrong.test", "a.test")).encode())
        self.read_until(s, b"</stream:features>")
        s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.read_until(s, b"<proceed")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(os.path.join(self.ws.pki, "ca.crt"))
        context.load_cert_chain(os.path.join(self.ws.pki, "b.test.crt"), os.path.join(self.ws.pki, "b.test.key"))
        s = context.wrap_socket(s, server_hostname="a.test")
        s.sendall((HEADER % ("wrong.test", "a.test")).encode())
        features = self.read_until(s, b"</stream:features>")
        self.assertNotIn(b"EXTERNAL", features, "b.test's certificate is not valid for wrong.test")
        s.close()
        failures = key("fedgate_partner_failures_total", partner="wrong.test", direction="in", stage="certificate",
                       reason="name_mismatch")
        wait_for(lambda: self.a.scrape().get(failures, 0) >= 1, 10, "the inbound certificate failure to be counted")

    def test_certificates_that_expire_soon_are_warned_of_by_both_sides(self):
        self.a.wait_log("[tls] the certificate of local domain a.test")
        self.assertRegex(self.a.log_text(), r"the certificate of local domain a\.test .*expires on .*, in 4 days")
        # B sees a.test's certificate when A's stream to it authenticates.
        self.internal_a.send("b.test", message("alice@a.test/desk", "bob@b.test", "soon1"))
        self.internal_b.wait_stanza(has_id("soon1"), what="the message to b.test")
        self.b.wait_log("[tls] the certificate partner a.test presented CN=a.test")
        expiry = self.b.scrape()[key("fedgate_peer_certificate_expiry_timestamp_seconds", partner="a.test")]
        self.assertAlmostEqual(expiry, time.time() + 5 * 86400, delta=3600)
        self.assertEqual(self.b.scrape()[key("fedgate_partner_up", partner="a.test", direction="in")], 1)

    @staticmethod
    def read_until(s, marker):
        data = b""
        while marker not in data:
            chunk = s.recv(4096)
            if not chunk:
                raise AssertionError("the stream ended; received: %r" % data)
            data += chunk
        return data


if __name__ == "__main__":
    unittest.main()
