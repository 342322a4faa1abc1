#pragma once
/// @file
/// What the benchmarks share: sockets on loopback, the XEP-0114 sink that
/// stands for the internal server, a partner's inbound S2S stream (blocking
/// OpenSSL), the server under test as a child process, and its CPU time and
/// memory from /proc. Benchmarks measure; they never assert.

#include <openssl/ssl.h>

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace fedgate::bench {

[[noreturn]] void die(std::string const& what);

/// A listening TCP socket on 127.0.0.1; `port` receives the port chosen.
int listen_on(std::uint16_t& port);
std::uint16_t free_port();
/// Connects to 127.0.0.1:port, retrying for 5 s while the server starts.
int connect_to(std::uint16_t port);

/// Send times carried by stanzas (steady_clock nanoseconds in the id, written
/// just before the write), read back where they arrive: the added latency.
/// Senders and receivers share the process, so they share the clock.
class latency_log {
public:
    struct summary {
        std::size_t samples = 0;
        double p50_us = 0, p99_us = 0, max_us = 0;
    };
    void add(std::vector<std::int64_t> const& nanoseconds);
    [[nodiscard]] summary summarise() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::int64_t> nanoseconds_;
};

/// Overwrites the send-time placeholder of every stanza in `stanzas` with `now`.
void stamp(std::string& stanzas, std::chrono::steady_clock::time_point now);

/// Counts the complete <message> stanzas in `pending` + `arrived` and keeps the
/// incomplete rest in `pending`; a stanza's send time, if stamped, goes to `log`.
std::uint64_t count_messages(std::string& pending, std::string_view arrived, latency_log& log);

/// The XEP-0114 side of the internal server: accepts fedgate's component
/// connection (or joins a server as a component), then counts every
/// </message> that arrives; send() writes stanzas into the link (the outbound
/// direction).
class sink {
public:
    sink();
    ~sink();
    sink(sink const&) = delete;
    sink& operator=(sink const&) = delete;
    /// Waits for fedgate's component connection (fedgate connects to us).
    void start();
    /// Connects to a server as the component `domain` (Prosody listens).
    void connect_as(std::uint16_t port, std::string domain, std::string secret);
    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// Writes into the component link (blocking); only once linked.
    void send(std::string_view bytes);
    std::atomic<std::uint64_t> messages{0};
    std::atomic<bool> linked{false};
    latency_log latencies;

private:
    void serve();
    void join(std::uint16_t port, std::string const& domain, std::string const& secret);
    void count(int fd);

    std::uint16_t port_ = 0;
    int listener_;
    std::atomic<int> link_{-1};
    std::thread thread_;
};

/// A process's CPU seconds so far (utime + stime).
double cpu_seconds(pid_t pid);
long current_rss_kib(pid_t pid);
/// VmHWM.
long peak_rss_kib(pid_t pid);

/// One inbound S2S stream from b.test: STARTTLS and SASL EXTERNAL with
/// blocking OpenSSL, then raw writes.
class partner_stream {
public:
    partner_stream(std::uint16_t port, SSL_CTX* ctx, std::string to);
    ~partner_stream();
    partner_stream(partner_stream const&) = delete;
    partner_stream& operator=(partner_stream const&) = delete;

    void negotiate();
    void send(std::string_view bytes);

private:
    std::string header() const;
    void read_until(std::string_view marker, std::string_view other = "\x01");

    int fd_;
    SSL_CTX* ctx_;
    SSL* ssl_ = nullptr;
    std::string to_;
    std::string seen_;
};

/// A 300-byte chat message from user<stream>@b.test to alice@<to_domain>,
/// with a send-time placeholder in its id (see stamp()).
std::string message(unsigned stream, unsigned n, std::string const& to_domain);
/// The same, between any two addresses.
std::string message(std::string const& from, std::string const& to, std::string const& tag);

/// The remote server b.test for the outbound direction: listens for S2S streams
/// to b.test, does the server side of STARTTLS (b.test's certificate) and of
/// SASL EXTERNAL (success only for a client certificate valid for a.test),
/// then counts the messages that arrive, on every stream.
class remote_server {
public:
    explicit remote_server(std::filesystem::path const& dir);
    ~remote_server();
    remote_server(remote_server const&) = delete;
    remote_server& operator=(remote_server const&) = delete;
    [[nodiscard]] std::uint16_t port() const { return port_; }
    std::atomic<std::uint64_t> messages{0};
    std::atomic<unsigned> authenticated{0};
    latency_log latencies;

private:
    void accept_streams();
    void serve(int fd);

    std::uint16_t port_ = 0;
    int listener_;
    SSL_CTX* ctx_;
    std::thread acceptor_;
};

/// dnsmasq on 127.0.0.1:port (UDP and TCP), answering for .test only: the SRV
/// record _xmpp-server._tcp.b.test -> localhost:s2s_port, localhost and b.test
/// -> 127.0.0.1. The SRV target is localhost because ejabberd 23.01 resolves
/// it with getaddrinfo (net:getaddrinfo in xmpp_stream_out:a_lookup), which
/// ignores the Erlang resolver's nameserver and reads /etc/hosts and
/// /etc/resolv.conf; localhost is in /etc/hosts everywhere.
pid_t start_dnsmasq(std::filesystem::path const& dir, std::uint16_t port, std::uint16_t s2s_port);

/// fork + exec with stdout and stderr into `log`. The child is stopped by
/// stop_children() (also on die() and on SIGINT / SIGTERM, see
/// stop_children_on_signals()).
pid_t spawn(std::vector<std::string> args, std::filesystem::path const& log,
            std::vector<std::string> const& environment = {});
/// A process that is not our child (a server's real process behind a wrapper)
/// and that stop_children() must stop too.
void adopt(pid_t pid);
/// SIGTERM to every spawned and adopted process, SIGKILL to what is left after 10 s.
void stop_children();
void stop_children_on_signals();
/// The first process under `root` (any depth) whose name (comm) is `name`;
/// waits up to `timeout` for it to appear; -1 if it does not.
pid_t find_descendant(pid_t root, std::string_view name, std::chrono::seconds timeout);
/// Waits up to `timeout` until something accepts connections on 127.0.0.1:port.
bool wait_for_listener(std::uint16_t port, std::chrono::seconds timeout);

/// Test certificates for a.test and b.test under dir/pki (scripts/make-demo-certs).
/// Without XmppAddr for ejabberd 23.01, whose S2S streams crash on one.
void make_certificates(std::string const& source_dir, std::filesystem::path const& dir, bool xmpp_addr = true);
/// b.test's client context: its certificate and key, the lab CA.
SSL_CTX* partner_context(std::filesystem::path const& dir);

/// `fedgate run` as the S2S edge of a.test on 127.0.0.1:s2s_port, linked to
/// `internal` as its component; partner b.test must use TLS and EXTERNAL.
/// Its resolver is the dnsmasq on 127.0.0.1:dns_port (the outbound direction).
pid_t start_fedgate(std::string const& binary, std::filesystem::path const& dir, std::uint16_t s2s_port,
                    sink& internal, std::string const& secret, std::uint16_t dns_port = 9);
/// Prosody on the same route: S2S in (TLS + EXTERNAL, its mod_s2s_auth_certs),
/// out to the component sink.a.test, which `internal` joins. The component may
/// send from a.test (validate_from_addresses = false), for the outbound
/// direction; a module of the benchmark points its resolver at dns_port.
pid_t start_prosody(std::string const& binary, std::filesystem::path const& dir, std::uint16_t s2s_port,
                    sink& internal, std::string const& secret, std::uint16_t dns_port = 9);
/// ejabberd on the same route, its own instance (config, spool, logs, node
/// name, cookie, no epmd) through `ejabberdctl foreground`, which runs the node
/// as the ejabberd user when we are root. Returns the Erlang VM's own process
/// (beam.smp), which is what CPU and memory must be read from; it is adopted.
/// Needs certificates without XmppAddr.
pid_t start_ejabberd(std::string const& ejabberdctl, std::filesystem::path const& dir, std::uint16_t s2s_port,
                     sink& internal, std::string const& secret, std::uint16_t dns_port = 9);

/// Raises the descriptor limit as far as the process may (root: 1,048,576);
/// children inherit it.
void raise_descriptor_limit();

}  // namespace fedgate::bench
