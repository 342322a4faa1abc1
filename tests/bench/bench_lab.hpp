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
#include <filesystem>
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

/// The XEP-0114 side of the internal server: accepts fedgate's component
/// connection (or joins a server as a component), then counts every
/// </message> that arrives.
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
    std::atomic<std::uint64_t> messages{0};
    std::atomic<bool> linked{false};

private:
    void serve();
    void join(std::uint16_t port, std::string const& domain, std::string const& secret);
    void count(int fd);

    std::uint16_t port_ = 0;
    int listener_;
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

/// A 300-byte chat message from user<stream>@b.test to alice@<to_domain>.
std::string message(unsigned stream, unsigned n, std::string const& to_domain);

/// fork + exec with stdout and stderr into `log`.
pid_t spawn(std::vector<std::string> args, std::filesystem::path const& log);

/// Test certificates for a.test and b.test under dir/pki (scripts/make-demo-certs).
void make_certificates(std::string const& source_dir, std::filesystem::path const& dir);
/// b.test's client context: its certificate and key, the lab CA.
SSL_CTX* partner_context(std::filesystem::path const& dir);

/// `fedgate run` as the S2S edge of a.test on 127.0.0.1:s2s_port, linked to
/// `internal` as its component; partner b.test must use TLS and EXTERNAL.
pid_t start_fedgate(std::string const& binary, std::filesystem::path const& dir, std::uint16_t s2s_port,
                    sink& internal, std::string const& secret);
/// Prosody on the same route: S2S in (TLS + EXTERNAL, its mod_s2s_auth_certs),
/// out to the component sink.a.test, which `internal` joins.
pid_t start_prosody(std::string const& binary, std::filesystem::path const& dir, std::uint16_t s2s_port,
                    sink& internal, std::string const& secret);

/// Raises the descriptor limit as far as the process may (root: 1,048,576);
/// children inherit it.
void raise_descriptor_limit();

}  // namespace fedgate::bench
