"""Pieces for the daemon's integration tests: a dnsmasq serving the test
domains' SRV and A records, a small XEP-0114 server standing in for the
internal XMPP server, and `fedgate run` processes with their own
configuration, all on 127.0.0.1 and stopped by PID. Real fedgate processes
talk to each other; only the internal server is written here (issue 6)."""

import atexit
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import xml.parsers.expat

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


PORTS_TAKEN = os.path.join(tempfile.gettempdir(), "fedgate-test-ports")


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _claim(port):
    """Claims `port` for this process against the other test processes running
    now (ctest runs suites in parallel, and two may draw the same free port
    before either binds it): a file per port, naming its owner; the claim of a
    process that is gone is taken over."""
    os.makedirs(PORTS_TAKEN, exist_ok=True)
    path = os.path.join(PORTS_TAKEN, str(port))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    owner = int(f.read() or "0")
            except (OSError, ValueError):
                owner = 0
            if owner == os.getpid() or (owner and _alive(owner)):
                return False
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        _claimed.append(path)
        return True
    return False


_claimed = []


@atexit.register
def _release_claims():
    for path in _claimed:
        try:
            os.unlink(path)
        except OSError:
            pass


def free_port(kind=socket.SOCK_STREAM):
    """A port free now and claimed by no other test process, below the
    kernel's ephemeral range (32768 and up on Linux), so that no outgoing
    connection or DNS query of a running test takes it before its server
    binds it."""
    import random
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if _claim(port):
            return port
    raise AssertionError("no free port")


def connections_to(port):
    """Established TCP connections on loopback whose far end is `port` (the
    connecting sides), from /proc/net/tcp and tcp6."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


class PostgresCluster:
    """A PostgreSQL server of the test's own (scripts/pg-test-cluster: Debian's
    postgresql-15 binaries in a folder of its own, as an unprivileged user), and
    a fresh database in it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fedgate-pg-")
        self.script = os.path.join(SOURCE, "scripts/pg-test-cluster")
        base = subprocess.run([self.script, "start", os.path.join(self.dir, "cluster"), "0"], check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        self.database = "fedgate_it"
        self.sql(base, "CREATE DATABASE " + self.database)
        self.conninfo = base + " dbname=" + self.database

    @staticmethod
    def sql(conninfo, statement):
        return subprocess.run(["psql", conninfo, "-Atqc", statement], check=True, capture_output=True,
                              text=True).stdout.strip()

    def stop(self):
        subprocess.run([self.script, "stop", os.path.join(self.dir, "cluster")], check=True)

    def start(self):
        subprocess.run([self.script, "start", os.path.join(self.dir, "cluster")], check=True, capture_output=True)

    def remove(self):
        if os.environ.get("FEDGATE_KEEP_TEST_DIRS"):
            self.stop()
            return
        subprocess.run([self.script, "destroy", os.path.join(self.dir, "cluster")], check=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Workspace:
    """A temporary folder with a CA, certificates and secrets for `domains`."""

    def __init__(self, domains):
        self.dir = tempfile.mkdtemp(prefix="fedgate-it-")
        self.pki = os.path.join(self.dir, "pki")
        subprocess.run(["bash", os.path.join(SOURCE, "scripts/make-demo-certs"), self.pki] + list(domains),
                       check=True, stdout=subprocess.DEVNULL)

    def secret(self, name, text):
        path = os.path.join(self.dir, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(text + "\n")
        return path

    def remove(self):
        if os.environ.get("FEDGATE_KEEP_TEST_DIRS"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Dnsmasq:
    """dnsmasq on 127.0.0.1:<free port>, authoritative for .test."""

    def __init__(self, records, log_path):
        self.port = free_port(socket.SOCK_DGRAM)
        args = ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--port=%d" % self.port, "--local=/test/",
                "--local-ttl=1", "--log-queries", "--log-facility=" + log_path]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.process = subprocess.Popen(args + records)
        wait_for(self._answers, 10, "dnsmasq to listen")

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError("dnsmasq exited with %s" % self.process.returncode)
        out = subprocess.run(["ss", "-lun", "sport = :%d" % self.port], capture_output=True, text=True).stdout
        return ":%d" % self.port in out

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def srv_records(domain, port, address="127.0.0.1", direct_tls=False):
    service = "_xmpps-server" if direct_tls else "_xmpp-server"
    return ["--srv-host=%s._tcp.%s,%s,%d,0,5" % (service, domain, domain, port),
            "--host-record=%s,%s" % (domain, address)]


class _Link:
    """One component connection accepted by the internal server."""

    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.domain = None
        self.ready = False
        self.closed = False
        self.ended_properly = False
        self.stream_id = os.urandom(8).hex()
        self.depth = 0
        self.builder = None
        self.parser = xml.parsers.expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.reading = threading.Event()
        self.reading.set()
        # A test's thread sends stanzas while the reading thread answers pings:
        # sendall() from two threads at once interleaves their bytes when the
        # socket is full (fedgate paused reading), and fedgate then rightly
        # closes the link as not well-formed, with what followed in it.
        self.sending = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def pause(self):
        """Stops reading, as a busy internal server would."""
        self.reading.clear()

    def resume(self):
        self.reading.set()

    def send(self, data):
        with self.sending:
            self.sock.sendall(data.encode())

    def _read(self):
        try:
            while True:
                self.reading.wait()
                data = self.sock.recv(65536)
                if not data:
                    break
                self.parser.Parse(data, False)
        except (OSError, xml.parsers.expat.ExpatError):
            pass
        self.closed = True
        self.ready = False
        with self.server.changed:
            self.server.changed.notify_all()

    def _start(self, name, attrs):
        self.depth += 1
        if self.depth == 1:
            self.domain = attrs.get("to")
            self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                      "xmlns:stream='http://etherx.jabber.org/streams' id='%s' from='%s'>" % (self.stream_id, self.domain))
            return
        if self.depth == 2:
            self.builder = ET.TreeBuilder()
        self.builder.start(name, attrs)

    def _text(self, data):
        if self.builder is not None and self.depth >= 2:
            self.builder.data(data)

    def _end(self, name):
        self.depth -= 1
        if self.depth == 0:
            self.ended_properly = True
            self.send("</stream:stream>")
            return
        self.builder.end(name)
        if self.depth == 1:
            self._element(self.builder.close())
            self.builder = None

    def _element(self, e):
        if e.tag == "iq" and e.get("type") == "get" and any(c.tag == "ping" and c.get("xmlns") == "urn:xmpp:ping" for c in e) \
                and self.server.answer_pings:
            # XEP-0199, as a real server answers fedgate's acknowledgement pings.
            self.send("<iq type='result' id='%s' from='%s' to='%s'/>" % (e.get("id"), e.get("to"), e.get("from")))
            self.server.pings += 1
            return
        if e.tag == "iq" and e.get("type") == "get" and any(
                c.tag == "query" and c.get("xmlns") == "http://jabber.org/protocol/disco#info" for c in e):
            self.send("<iq type='result' id='%s' from='%s' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'>"
                      "<identity category='server' type='im'/></query></iq>" % (e.get("id"), e.get("to"), e.get("from")))
            self.server.pings += 1
            return
        if e.tag == "handshake":
            expected = hashlib.sha1((self.stream_id + self.server.secret).encode()).hexdigest()
            if (e.text or "").strip() == expected:
                self.ready = True
                self.send("<handshake/>")
            else:
                self.send("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                          "</stream:error></stream:stream>")
        else:
            with self.server.changed:
                self.server.received.append(e)
                self.server.received_at.append(time.monotonic())
                self.server.changed.notify_all()
        with self.server.changed:
            self.server.changed.notify_all()


class ComponentServer:
    """The internal XMPP server as fedgate sees it: accepts XEP-0114 component
    connections with `secret`, records every stanza, sends stanzas on request."""

    def __init__(self, secret):
        self.secret = secret
        self.answer_pings = True
        self.pings = 0
        self.port = free_port()
        self.links = []
        self.received = []
        self.received_at = []  # time.monotonic() of each, for latencies
        self.changed = threading.Condition()
        self._listen()

    def _listen(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            self.links.append(_Link(self, sock))

    def crash(self):
        """Goes away as a crashed server does: every link reset, connections
        refused until come_back()."""
        self.stop(reset=True)

    def come_back(self):
        self._listen()

    def link(self, domain):
        for l in reversed(self.links):
            if l.domain == domain and l.ready and not l.closed:
                return l
        return None

    def wait_links(self, domains, gateway, timeout=30):
        try:
            wait_for(lambda: gateway.running() and all(self.link(d) for d in domains), timeout,
                     "component links for %s" % ", ".join(domains))
        except AssertionError as e:
            links = [(l.domain, l.ready, l.closed) for l in self.links]
            raise AssertionError("%s; links seen: %s; %s's log ends:\n%s"
                                 % (e, links, gateway.name, gateway.log_text()[-3000:])) from None

    def send(self, domain, stanza):
        self.link(domain).send(stanza)

    def wait_stanza(self, predicate, timeout=15, what="a stanza"):
        def found():
            # In a list: an Element without children is false.
            with self.changed:
                return [e for e in self.received if predicate(e)][:1]
        return wait_for(found, timeout, what)[0]

    def stop(self, reset=False):
        # shutdown() first: close() alone leaves the socket listening while the
        # accept thread is blocked in it, and a later server on the same port
        # would share connections with this one.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for l in self.links:
            try:
                if reset:  # RST, not FIN: what fedgate sees when the process dies mid-stream
                    l.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                l.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                l.sock.close()
            except OSError:
                pass


class Gateway:
    """A `fedgate run` process with its own configuration and log."""

    def __init__(self, workspace, name, domain, partners, internal, dns_port, listen_port, direct_tls_port=None,
                 limits=None, state_dir=None, env=None, metrics_port=None, store=None, dialback=None,
                 control_socket=None, more_local_domains=(), worker_threads=None):
        self.name = name
        self.domain = domain
        self.log_path = os.path.join(workspace.dir, name + ".log")
        self.config_path = os.path.join(workspace.dir, name + ".toml")
        self.state_dir = state_dir or os.path.join(workspace.dir, name + "-state")
        os.makedirs(self.state_dir, exist_ok=True)
        pki = workspace.pki
        lines = [
            "[gateway]",
            # Several event loops, whatever the machine's cores: inbound streams
            # then live on another thread than the router (`worker_threads`).
            "worker_threads = %s" % (worker_threads or os.environ.get("FEDGATE_TEST_WORKER_THREADS", "2")),
            's2s_listen = ["127.0.0.1:%d"]' % listen_port,
            "direct_tls_listen = [%s]" % ('"127.0.0.1:%d"' % direct_tls_port if direct_tls_port else ""),
            'dialback_secret_file = "%s"' % (dialback[0] if dialback else
                                             workspace.secret(name + "-dialback.secret", os.urandom(24).hex())),
            "dialback_accepted_secret_files = [%s]" % ", ".join('"%s"' % f for f in (dialback[1] if dialback else [])),
            'state_dir = "%s"' % self.state_dir,
            "[[local_domain]]",
            'name = "%s"' % domain,
            'certificate = "%s/%s.crt"' % (pki, domain),
            'key = "%s/%s.key"' % (pki, domain),
        ]
        for more in more_local_domains:
            lines += ["[[local_domain]]", 'name = "%s"' % more, 'certificate = "%s/%s.crt"' % (pki, more),
                      'key = "%s/%s.key"' % (pki, more)]
        lines += [
            "[internal]",
            'host = "127.0.0.1"',
            "port = %d" % internal.port,
            'secret_file = "%s"' % workspace.secret(name + "-component.secret", internal.secret),
            "[tls]",
            'ca_file = "%s/ca.crt"' % pki,
            "[dns]",
            'servers = ["127.0.0.1:%d"]' % dns_port,
            "timeout_ms = 1000",
            "[limits]",
        ]
        settings = {"negotiation_timeout_seconds": 5, "delivery_deadline_seconds": 4}
        settings.update(limits or {})
        lines += ["%s = %s" % (k, v) for k, v in settings.items()]
        if store:  # the [store] section's settings
            lines += ["[store]"] + ['%s = %s' % (k, '"%s"' % v if isinstance(v, str) else v) for k, v in store.items()]
        lines += ["[log]", 'level = "debug"']
        if metrics_port:
            lines += ["[metrics]", 'listen = "127.0.0.1:%d"' % metrics_port]
        self.metrics_port = metrics_port
        # Each instance its own control socket: never /run/fedgate's.
        self.control_socket = control_socket or os.path.join(workspace.dir, name + ".control.sock")
        lines += ["[control]", 'socket = "%s"' % self.control_socket]
        self.common = lines
        self.write_config(partners)
        binary = os.environ.get("FEDGATE_BINARY", os.path.join(SOURCE, "build/daemon/fedgate"))
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([binary, "run", "-c", self.config_path], stdout=self.log,
                                        stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))

    def write_config(self, partners, extra=()):
        """(Re)writes the configuration with these partners (and `extra` lines,
        which may break it on purpose)."""
        lines = list(self.common)
        for p in partners:
            lines += ["[[partner]]", 'domain = "%s"' % p["domain"], 'type = "%s"' % p.get("type", "federated")]
            for key in ("tls", "sasl", "description"):
                if key in p:
                    lines.append('%s = "%s"' % (key, p[key]))
            if "additional_domains" in p:
                lines.append("additional_domains = [%s]" % ", ".join('"%s"' % d for d in p["additional_domains"]))
            for key in ("dialback", "stream_management", "bidi"):
                if key in p:
                    lines.append("%s = %s" % (key, "true" if p[key] else "false"))
        lines += list(extra)
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def status(self, *options):
        """`fedgate status -c CONFIG OPTIONS...`: (exit status, stdout, stderr)."""
        binary = os.environ.get("FEDGATE_BINARY", os.path.join(SOURCE, "build/daemon/fedgate"))
        done = subprocess.run([binary, "status", "-c", self.config_path, *options], capture_output=True, text=True,
                              timeout=30)
        return done.returncode, done.stdout, done.stderr

    def scrape(self):
        """The metrics as {'name{labels}': value}."""
        import urllib.request
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=5).read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                values[key] = float(value)
        return values

    def signal(self, number):
        self.process.send_signal(number)

    def running(self):
        if self.process.poll() is not None:
            raise AssertionError("fedgate %s exited with %s:\n%s" % (self.name, self.process.returncode,
                                                                   self.log_text()[-3000:]))
        return True

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, text, timeout=15):
        return wait_for(lambda: text in self.log_text(), timeout, "'%s' in %s's log" % (text, self.name))

    def terminate(self, timeout=15):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.exit_status(timeout)

    def exit_status(self, timeout=15):
        """Waits for an exit the test asked for already (a SIGTERM it sent): a
        second SIGTERM could land after the daemon dropped its handler on the
        way out and kill it (-15), as a slow machine showed."""
        try:
            return self.process.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        """Ends the process at once (SIGKILL), as a crash would; again is harmless."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()


class FakePeer:
    """A hand-driven S2S client for what a real server would never send: it
    negotiates STARTTLS and SASL EXTERNAL with a certificate of `domain`, then
    writes whatever the test says."""

    HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
              "xmlns:stream='http://etherx.jabber.org/streams' from='%s' to='%s' version='1.0'>")

    def __init__(self, port, domain, to, pki):
        import ssl
        self.domain, self.to = domain, to
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = ""
        self.send(self.HEADER % (domain, to))
        assert "urn:ietf:params:xml:ns:xmpp-tls" in self.features(), "no STARTTLS offered"
        self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.read_until("<proceed")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(os.path.join(pki, "ca.crt"))
        context.load_cert_chain(os.path.join(pki, domain + ".crt"), os.path.join(pki, domain + ".key"))
        self.sock = context.wrap_socket(self.sock, server_hostname=to)
        self.buffer = ""
        self.send(self.HEADER % (domain, to))
        assert "EXTERNAL" in self.features(), "no SASL EXTERNAL offered"
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>")
        self.read_until("<success")
        self.buffer = ""
        self.send(self.HEADER % (domain, to))
        self.features()

    def send(self, text):
        self.sock.sendall(text.encode())

    def read_until(self, *markers):
        while not any(m in self.buffer for m in markers):
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("the stream ended; received: " + self.buffer)
            self.buffer += data.decode()
        return self.buffer

    def features(self):
        return self.read_until("</stream:features>", "<stream:features/>")

    def read_to_end(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buffer += data.decode()
        except OSError:
            pass
        return self.buffer

    def close(self):
        self.sock.close()
