"""Two fedgate instances of a.test sharing one PostgreSQL relationship store
(issue 19 §2): A1 and A2, each with its own internal server, and b.test behind
gateway B, a public_unverified partner of a.test. The SRV records of a.test name
A2 only, so alice's invitation leaves through A1 and bob's answer comes in
through A2, which lets it in only because A1 recorded the invitation in the
shared store. Then PostgreSQL stops in the middle: an invitation waits for it
and leaves once it is back, or is bounced to its sender when it stays away
past the write deadline. A PostgreSQL server of the test's own
(scripts/pg-test-cluster). Run: python3 tests/integration/shared_store_test.py."""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lab import (ComponentServer, Dnsmasq, Gateway, PostgresCluster, Workspace, free_port, srv_records,  # noqa: E402
                 wait_for)
from two_gateways import ClassLab, error_condition, has_id, message  # noqa: E402

POLICY = {"tls": "required", "sasl": "required", "dialback": False, "bidi": False}


def subscribe(sender, recipient, ident, kind="subscribe"):
    return "<presence from='%s' to='%s' type='%s' id='%s'/>" % (sender, recipient, kind, ident)


class TwoInstances(ClassLab):
    """a.test served by two instances, A1 and A2, each with its internal
    server; b.test behind B. a.test's SRV records name A2 only. Subclasses
    say how a.test sees b.test (`partner`), how b.test sees a.test (`policy`),
    and what A1 and A2 add to their configuration (`a1_settings`,
    `a2_settings`: Gateway keyword arguments, given the class)."""

    policy = POLICY
    partner = dict(domain="b.test", **POLICY)

    @classmethod
    def a1_settings(cls):
        return {}

    @classmethod
    def a2_settings(cls):
        return {}

    @classmethod
    def start(cls):
        cls.ws = Workspace(["a.test", "b.test"])
        ports = {"a1": free_port(), "a2": free_port(), "b": free_port()}
        cls.dns = Dnsmasq(srv_records("a.test", ports["a2"]) + srv_records("b.test", ports["b"]),
                          os.path.join(cls.ws.dir, "dnsmasq.log"))
        cls.internal_a1 = ComponentServer("component-secret-of-a")
        cls.internal_a2 = ComponentServer("component-secret-of-a")
        cls.internal_b = ComponentServer("component-secret-of-b")
        cls.a1 = Gateway(cls.ws, "A1", "a.test", [cls.partner], cls.internal_a1, cls.dns.port, ports["a1"],
                         **cls.a1_settings())
        cls.a2 = Gateway(cls.ws, "A2", "a.test", [cls.partner], cls.internal_a2, cls.dns.port, ports["a2"],
                         **cls.a2_settings())
        cls.b = Gateway(cls.ws, "B", "b.test", [dict(domain="a.test", **cls.policy)], cls.internal_b, cls.dns.port,
                        ports["b"])
        cls.internal_a1.wait_links(["b.test"], cls.a1)
        cls.internal_a2.wait_links(["b.test"], cls.a2)
        cls.internal_b.wait_links(["a.test"], cls.b)

    @classmethod
    def tearDownClass(cls):
        for name in ("a1", "a2"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).kill()
        for name in ("internal_a1", "internal_a2"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).stop()
        super().tearDownClass()


class SharedStore(TwoInstances, unittest.TestCase):
    partner = dict(domain="b.test", type="public_unverified", **POLICY)

    @classmethod
    def start(cls):
        cls.pg = PostgresCluster()
        super().start()

    @classmethod
    def store(cls):
        conninfo_file = cls.ws.secret("store.conninfo", cls.pg.conninfo)
        return {"backend": "postgresql", "conninfo_file": conninfo_file, "write_deadline_seconds": 4}

    @classmethod
    def a1_settings(cls):
        cls.metrics_a1 = free_port()
        return {"store": cls.store(), "metrics_port": cls.metrics_a1}

    @classmethod
    def a2_settings(cls):
        return {"store": cls.store()}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if getattr(cls, "pg", None) is not None:
            cls.pg.remove()

    def store_up(self):
        return self.a1.scrape().get("fedgate_store_up")

    def test_1_an_invitation_through_one_instance_lets_the_answer_in_through_the_other(self):
        self.assertIn("relationship store: PostgreSQL, shared by every instance", self.check_config(self.a1))
        self.internal_a1.send("b.test", subscribe("alice@a.test/desk", "bob@b.test", "invite"))
        self.internal_b.wait_stanza(has_id("invite"), what="alice's invitation at b.test")
        self.a1.wait_log("relationship alice@a.test ~ bob@b.test: to=false from=false asked=true (committed)")
        self.assertEqual(PostgresCluster.sql(self.pg.conninfo, "SELECT asked FROM fedgate_relationships "
                                             "WHERE local_jid = 'alice@a.test' AND remote_jid = 'bob@b.test'"), "t")
        # b.test's answers come to a.test's SRV target: A2, which never saw the invitation.
        self.internal_b.send("a.test", subscribe("bob@b.test", "alice@a.test", "answer", "subscribed") +
                             message("bob@b.test/phone", "alice@a.test", "hello") +
                             message("eve@b.test/x", "alice@a.test", "stranger"))
        self.internal_a2.wait_stanza(has_id("answer"), what="bob's answer at A2")
        self.internal_a2.wait_stanza(has_id("hello"), what="bob's message at A2")
        self.a2.wait_log("refused message chat from eve@b.test/x to alice@a.test (partner b.test, public_unverified)")
        self.assertEqual([e for e in self.internal_a2.received if e.get("id") == "stranger"], [])
        self.assertEqual(self.internal_a1.received, [], "nothing came in through A1")
        self.assertEqual(self.store_up(), 1)

    def test_2_an_invitation_waits_for_a_restarted_database_and_leaves_once_it_is_back(self):
        self.pg.stop()
        try:
            self.internal_a1.send("b.test", subscribe("alice@a.test/desk", "carol@b.test", "during-restart"))
            self.a1.wait_log("relationship store: lost the connection", timeout=10)
            self.assertEqual(self.store_up(), 0)
            time.sleep(1)
            self.assertEqual([e for e in self.internal_b.received if e.get("id") == "during-restart"], [],
                             "it waits for the database")
        finally:
            self.pg.start()
        self.internal_b.wait_stanza(has_id("during-restart"), what="the invitation once the database was back")
        self.a1.wait_log("relationship store: connected to PostgreSQL database fedgate_it")
        wait_for(lambda: self.store_up() == 1, 10, "fedgate_store_up back to 1")

    def test_3_an_invitation_is_bounced_when_the_database_stays_away_past_the_deadline(self):
        self.pg.stop()
        try:
            began = time.monotonic()
            self.internal_a1.send("b.test", subscribe("alice@a.test/desk", "dave@b.test", "too-long"))
            bounced = self.internal_a1.wait_stanza(lambda e: e.get("id") == "too-long" and e.get("type") == "error",
                                                   timeout=15, what="the invitation bounced to alice")
            waited = time.monotonic() - began
        finally:
            self.pg.start()
        print("\n  PostgreSQL away: the invitation bounced after %.1f s with <%s/>" % (waited,
                                                                                    error_condition(bounced)))
        self.assertGreaterEqual(waited, 3.5, "it waited for the write deadline (4 s)")
        self.assertEqual(error_condition(bounced), "internal-server-error")
        self.assertEqual([e for e in self.internal_b.received if e.get("id") == "too-long"], [])
        self.a1.wait_log("is not reachable")

    def test_4_a_stop_while_the_database_is_away_bounces_what_waits_for_it(self):
        # The last test of the class: it stops A1.
        self.pg.stop()
        try:
            self.internal_a1.send("b.test", subscribe("alice@a.test/desk", "erin@b.test", "at-stop") +
                                  message("alice@a.test/desk", "erin@b.test", "behind-it"))
            self.a1.wait_log("relationship store: lost the connection", timeout=10)
            time.sleep(0.5)
            self.assertEqual(self.a1.terminate(), 0)
        finally:
            self.pg.start()
        bounced = {e.get("id"): error_condition(e) for e in self.internal_a1.received if e.get("type") == "error"}
        self.assertEqual(bounced.get("at-stop"), "service-unavailable")
        self.assertEqual(bounced.get("behind-it"), "service-unavailable")
        self.assertEqual([e for e in self.internal_b.received if e.get("id") in ("at-stop", "behind-it")], [])
        self.assertRegex(self.a1.log_text(), r"stopped cleanly: .* [1-9]\d* bounced, 0 possibly lost")

    def test_5_a_reload_with_another_password_in_the_conninfo_file_says_it_takes_a_restart(self):
        # Same file, new text (a rotated password): the open connection keeps the old one.
        self.ws.secret("store.conninfo", self.pg.conninfo + " connect_timeout=7")
        before = self.a2.log_text().count("reloaded:")
        self.a2.signal(signal.SIGHUP)
        wait_for(lambda: self.a2.log_text().count("reloaded:") > before, 10, "A2's reload")
        self.assertIn("warning [store] changed: that takes a restart", self.a2.log_text().split("SIGHUP received")[-1])

    @staticmethod
    def check_config(gateway):
        binary = os.environ.get("FEDGATE_BINARY", os.path.join(os.path.dirname(__file__), "../../build/daemon/fedgate"))
        return subprocess.run([binary, "check-config", "-c", gateway.config_path], capture_output=True,
                              text=True).stdout


class DialbackAcrossInstances(TwoInstances, unittest.TestCase):
    """A key one instance made is verified by another (issue 19 §3), in the
    middle of a rotation: A1 already makes its keys with the next secret, A2
    still with the last one but accepts the next. a.test's SRV names A2, so B
    asks A2 about A1's key (TCP dialback: no certificate to shortcut it)."""

    accepts_next = True
    policy = {"tls": "not_supported", "sasl": "not_supported", "dialback": True, "bidi": False}
    partner = dict(domain="b.test", **policy)

    @classmethod
    def secrets(cls):
        if "last" not in cls.__dict__:  # this class's own, in its own workspace
            cls.last = cls.ws.secret("last.secret", os.urandom(24).hex())
            cls.following = cls.ws.secret("next.secret", os.urandom(24).hex())
        return cls.last, cls.following

    @classmethod
    def a1_settings(cls):
        return {"dialback": (cls.secrets()[1], [])}

    @classmethod
    def a2_settings(cls):
        last, following = cls.secrets()
        return {"dialback": (last, [following] if cls.accepts_next else [])}

    def test_a_key_made_by_one_instance_is_verified_by_the_other(self):
        self.internal_a1.send("b.test", message("alice@a.test/desk", "bob@b.test", "across"))
        self.internal_b.wait_stanza(has_id("across"), what="A1's message, once A2 vouched for its key")
        self.b.wait_log("dialback verification of a.test for b.test: valid")
        self.a1.wait_log("a.test -> b.test authenticated by TCP dialback")


class DialbackWithoutTheNextSecret(DialbackAcrossInstances):
    """The same, but A2 does not accept A1's secret: B refuses A1's stream, and
    A1's stanza comes back to its sender."""

    accepts_next = False

    def test_a_key_made_by_one_instance_is_verified_by_the_other(self):
        self.internal_a1.send("b.test", message("alice@a.test/desk", "bob@b.test", "refused"))
        bounce = self.internal_a1.wait_stanza(lambda e: e.get("id") == "refused" and e.get("type") == "error",
                                              what="the bounce")
        self.b.wait_log("dialback verification of a.test for b.test: invalid")
        self.assertEqual([e for e in self.internal_b.received if e.get("id") == "refused"], [])
        print("\n  without the next secret at A2: B found A1's key invalid; alice got <%s/>" % error_condition(bounce))


if __name__ == "__main__":
    unittest.main(verbosity=2)
