"""What the integration suites share: two fedgate processes federating over
loopback (a.test behind gateway A, b.test behind gateway B), found through a
real dnsmasq, with XEP-0114 servers written in the test as the internal
servers; and the stanzas they exchange."""

import os

from lab import ComponentServer, Dnsmasq, Gateway, Workspace, free_port, srv_records

STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def message(sender, recipient, ident, body="hello", kind="chat"):
    return ("<message from='%s' to='%s' id='%s' type='%s'><body>%s</body></message>"
            % (sender, recipient, ident, kind, body))


def has_id(ident):
    return lambda e: e.get("id") == ident


def error_condition(stanza):
    error = stanza.find("error")
    if error is None:
        return None
    for child in error:
        if child.get("xmlns") == STANZAS:
            return child.tag
    return None


class ClassLab:
    """A lab shared by a test class: start() builds it into class attributes;
    whatever it made is taken down after the class, or at once when start()
    fails half-way."""

    @classmethod
    def setUpClass(cls):
        try:
            cls.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("a", "b"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).kill()
        for name in ("internal", "internal_a", "internal_b", "dns"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).stop()
        if getattr(cls, "ws", None) is not None:
            cls.ws.remove()


class TwoGateways(ClassLab):
    """a.test behind gateway A, b.test behind gateway B, partners of each other
    with `policy` (B's for a.test: `peer_policy`, by default the same);
    subclasses choose the policies and how B is reached."""

    policy = {"tls": "required", "sasl": "required", "dialback": False}
    peer_policy = None
    a_limits = None  # A's [limits], over the lab's defaults
    b_limits = None  # B's [limits], over the lab's defaults
    a_metrics = False  # A serves /metrics
    b_metrics = False  # B serves /metrics
    direct_tls = False
    expected_method = "SASL over TLS"

    @classmethod
    def start(cls):
        cls.ws = Workspace(["a.test", "b.test"])
        cls.ports = ports = {"a": free_port(), "b": free_port()}
        records = srv_records("a.test", ports["a"]) + srv_records("b.test", ports["b"], direct_tls=cls.direct_tls)
        cls.dns = Dnsmasq(records, os.path.join(cls.ws.dir, "dnsmasq.log"))
        cls.internal_a = ComponentServer("component-secret-of-a")
        cls.internal_b = ComponentServer("component-secret-of-b")
        b_plain, b_direct = (free_port(), ports["b"]) if cls.direct_tls else (ports["b"], None)
        cls.a_metrics_port = free_port() if cls.a_metrics else None
        cls.a = cls.start_a("A")
        cls.b_ports = (b_plain, b_direct)
        cls.b = cls.start_b("B")
        cls.internal_a.wait_links(["b.test"], cls.a)
        cls.internal_b.wait_links(["a.test"], cls.b)

    @classmethod
    def start_a(cls, name, state_dir=None):
        """Gateway A, under `name`; a restarted A keeps its port and metrics port
        (and its store, given the first one's `state_dir`)."""
        return Gateway(cls.ws, name, "a.test", [dict(domain="b.test", **cls.policy)], cls.internal_a, cls.dns.port,
                       cls.ports["a"], limits=cls.a_limits, metrics_port=cls.a_metrics_port, state_dir=state_dir)

    @classmethod
    def start_b(cls, name):
        """Gateway B, under `name` (a restarted B gets a log of its own)."""
        b_plain, b_direct = cls.b_ports
        return Gateway(cls.ws, name, "b.test", [dict(domain="a.test", **(cls.peer_policy or cls.policy))],
                       cls.internal_b, cls.dns.port, b_plain, direct_tls_port=b_direct, limits=cls.b_limits,
                       metrics_port=free_port() if cls.b_metrics else None)

    def relay(self, ident, sender, recipient, from_internal, to_internal, link):
        from_internal.send(link, message(sender, recipient, ident, body="body of " + ident))
        got = to_internal.wait_stanza(has_id(ident), what="message %s" % ident)
        self.assertEqual(got.get("from"), sender)
        self.assertEqual(got.get("to"), recipient)
        self.assertEqual(got.findtext("body"), "body of " + ident)
        return got
