#include "tests/bench/bench_lab.hpp"

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace fedgate::bench {

namespace fs = std::filesystem;

namespace {

/// Set while a signal stops the benchmark: what then fails (writes to the
/// servers being stopped) is a consequence, not news.
std::atomic<bool> interrupted{false};

}  // namespace

[[noreturn]] void die(std::string const& what)
{
    while (interrupted)  // the signal handler exits the process
        ::pause();
    std::cerr << "bench: " << what << "\n";
    stop_children();
    std::exit(1);
}

int listen_on(std::uint16_t& port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
        die("cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

std::uint16_t free_port()
{
    std::uint16_t port = 0;
    ::close(listen_on(port));
    return port;
}

/// Latency is measured per stanza: no Nagle delay on the benchmark's side of
/// any connection (fedgate sets the same on its own).
void no_delay(int fd)
{
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// accept(2) on `listener`, without Nagle's algorithm; -1 when it failed.
int accept_from(int listener)
{
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd >= 0)
        no_delay(fd);
    return fd;
}

int connect_to(std::uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            no_delay(fd);
            return fd;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    die("cannot connect to fedgate on port " + std::to_string(port));
}

sink::sink() : listener_{listen_on(port_)} {}

sink::~sink()
{
    ::close(listener_);
    if (thread_.joinable())
        thread_.detach();
}

void sink::start()
{
    thread_ = std::thread{[this] { serve(); }};
}

void sink::connect_as(std::uint16_t port, std::string domain, std::string secret)
{
    thread_ = std::thread{[this, port, domain, secret] { join(port, domain, secret); }};
}

void sink::send(std::string_view bytes)
{
    while (!bytes.empty()) {
        auto n = ::send(link_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0)
            die("the component link closed while the sink wrote to it");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void sink::serve()
{
    int fd = accept_from(listener_);
    if (fd < 0)
        return;
    link_ = fd;
    std::string buffer;
    char chunk[65536];
    while (!linked) {  // the header, then the handshake
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        if (buffer.find("<stream:stream") != std::string::npos && buffer.find("sent-header") == std::string::npos) {
            std::string reply = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                                "xmlns:stream='http://etherx.jabber.org/streams' id='bench' from='b.test'>";
            ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
            buffer += "sent-header";
        }
        if (buffer.find("</handshake>") != std::string::npos) {
            ::send(fd, "<handshake/>", 12, MSG_NOSIGNAL);
            linked = true;
        }
    }
    // Nothing follows </handshake> in `buffer`: fedgate waits for our <handshake/>.
    count(fd);
}

void sink::join(std::uint16_t port, std::string const& domain, std::string const& secret)
{
    int fd = connect_to(port);
    link_ = fd;
    std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                         "xmlns:stream='http://etherx.jabber.org/streams' to='" + domain + "'>";
    ::send(fd, header.data(), header.size(), MSG_NOSIGNAL);
    std::string buffer;
    char chunk[4096];
    auto id_at = std::string::npos;
    while ((id_at = buffer.find(" id='")) == std::string::npos || buffer.find('\'', id_at + 5) == std::string::npos) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            die("the component server closed the stream");
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    auto const id = buffer.substr(id_at + 5, buffer.find('\'', id_at + 5) - id_at - 5);
    unsigned char digest[SHA_DIGEST_LENGTH];
    auto const input = id + secret;
    SHA1(reinterpret_cast<unsigned char const*>(input.data()), input.size(), digest);
    std::string hex;
    for (auto b : digest) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", b);
        hex += two;
    }
    auto const handshake = "<handshake>" + hex + "</handshake>";
    ::send(fd, handshake.data(), handshake.size(), MSG_NOSIGNAL);
    while (buffer.find("<handshake/>") == std::string::npos) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            die("the component handshake failed");
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    linked = true;
    count(fd);
}

void sink::count(int fd)
{
    char chunk[65536];
    std::string pending;
    for (;;) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return;
        std::string_view const bytes{chunk, static_cast<std::size_t>(n)};
        messages += count_messages(pending, bytes, latencies);
        // The server stops (fedgate on SIGTERM): answer its </stream:stream>, as
        // an internal server does, instead of letting it wait out its grace.
        if (bytes.find("</stream:stream>") != std::string_view::npos) {
            ::send(fd, "</stream:stream>", 16, MSG_NOSIGNAL);
            return;
        }
    }
}

namespace {

/// In a stanza's id: the marker, then 20 digits of steady_clock nanoseconds
/// (zeros until stamped: a stanza that was never stamped carries no latency).
constexpr std::string_view stamp_marker = "bench-t";
constexpr std::size_t stamp_digits = 20;

std::int64_t nanoseconds_now()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void latency_log::add(std::vector<std::int64_t> const& nanoseconds)
{
    std::lock_guard lock{mutex_};
    nanoseconds_.insert(nanoseconds_.end(), nanoseconds.begin(), nanoseconds.end());
}

latency_log::summary latency_log::summarise() const
{
    std::vector<std::int64_t> sorted;
    {
        std::lock_guard lock{mutex_};
        sorted = nanoseconds_;
    }
    summary result;
    if (sorted.empty())
        return result;
    std::sort(sorted.begin(), sorted.end());
    auto const at = [&](double quantile) {
        auto index = static_cast<std::size_t>(quantile * static_cast<double>(sorted.size() - 1));
        return static_cast<double>(sorted[index]) / 1000.0;
    };
    result.samples = sorted.size();
    result.p50_us = at(0.50);
    result.p99_us = at(0.99);
    result.max_us = at(1.0);
    return result;
}

void stamp(std::string& stanzas, std::chrono::steady_clock::time_point now)
{
    char digits[stamp_digits + 1];
    std::snprintf(digits, sizeof digits, "%020lld",
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()));
    for (auto at = stanzas.find(stamp_marker); at != std::string::npos; at = stanzas.find(stamp_marker, at)) {
        at += stamp_marker.size();
        stanzas.replace(at, stamp_digits, digits, stamp_digits);
        at += stamp_digits;
    }
}

std::uint64_t count_messages(std::string& pending, std::string_view arrived, latency_log& log)
{
    static constexpr std::string_view end = "</message>";
    auto const now = nanoseconds_now();
    pending.append(arrived);
    std::uint64_t found = 0;
    std::vector<std::int64_t> delays;
    std::size_t from = 0;
    for (auto at = pending.find(end); at != std::string::npos; at = pending.find(end, from)) {
        // Only within this stanza: a server that dropped the id must not make us
        // search the whole buffer for each stanza.
        auto const stanza = std::string_view{pending}.substr(from, at - from);
        if (auto marker = stanza.find(stamp_marker);
            marker != std::string_view::npos && stanza.size() >= marker + stamp_marker.size() + stamp_digits) {
            auto const digits = stanza.substr(marker + stamp_marker.size(), stamp_digits);
            std::int64_t sent = 0;
            std::from_chars(digits.data(), digits.data() + digits.size(), sent);
            if (sent > 0)
                delays.push_back(now - sent);
        }
        ++found;
        from = at + end.size();
    }
    pending.erase(0, from);
    if (!delays.empty())
        log.add(delays);
    return found;
}

double cpu_seconds(pid_t pid)
{
    std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
    std::string line;
    std::getline(stat, line);
    std::istringstream fields{line.substr(line.rfind(')') + 2)};
    std::string skip;
    for (int i = 0; i < 11; ++i)  // state .. cmajflt: fields 3..13
        fields >> skip;
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long status_kib(pid_t pid, std::string_view field)
{
    std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
    for (std::string line; std::getline(status, line);)
        if (line.starts_with(field))
            return std::stol(line.substr(field.size()));
    return -1;
}

long current_rss_kib(pid_t pid)
{
    return status_kib(pid, "VmRSS:");
}

long peak_rss_kib(pid_t pid)
{
    return status_kib(pid, "VmHWM:");
}

partner_stream::partner_stream(std::uint16_t port, SSL_CTX* ctx, std::string to)
    : fd_{connect_to(port)}, ctx_{ctx}, to_{std::move(to)}
{
}

partner_stream::~partner_stream()
{
    if (ssl_)
        SSL_free(ssl_);
    ::close(fd_);
}

    void partner_stream::negotiate()
    {
        send(header());
        read_until("</stream:features>");
        send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        read_until("<proceed");
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, to_.c_str());
        if (SSL_connect(ssl_) != 1)
            die("TLS handshake failed");
        send(header());
        read_until("</stream:features>");
        send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>");
        read_until("<success");
        send(header());
        read_until("</stream:features>", "<stream:features/>");
    }

    void partner_stream::send(std::string_view bytes)
    {
        while (!bytes.empty()) {
            int n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                         : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
            if (n <= 0)
                die("write failed");
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    std::string partner_stream::header() const
    {
        return "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
               "xmlns:stream='http://etherx.jabber.org/streams' from='b.test' to='" + to_ + "' version='1.0'>";
    }

    void partner_stream::read_until(std::string_view marker, std::string_view other)
    {
        for (;;) {
            if (seen_.find(marker) != std::string::npos || seen_.find(other) != std::string::npos) {
                seen_.clear();
                return;
            }
            char chunk[16384];
            int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
            if (n <= 0)
                die("the stream ended during negotiation; received: " + seen_);
            seen_.append(chunk, static_cast<std::size_t>(n));
        }
    }

std::string message(unsigned stream, unsigned n, std::string const& to_domain)
{
    return message("user" + std::to_string(stream) + "@b.test/bench", "alice@" + to_domain,
                   std::to_string(stream) + "-" + std::to_string(n));
}

std::string message(std::string const& from, std::string const& to, std::string const& tag)
{
    std::string head = "<message from='" + from + "' to='" + to + "' type='chat' id='" + std::string{stamp_marker} +
                       std::string(stamp_digits, '0') + "-" + tag + "'><body>";
    std::string tail = "</body></message>";
    return head + std::string(300 - head.size() - tail.size(), 'x') + tail;
}

namespace {

/// The value of attribute `name` in the first element of `xml` ('' or "").
std::string attribute(std::string_view xml, std::string_view name)
{
    for (char quote : {'\'', '"'}) {
        auto const key = " " + std::string{name} + "=" + quote;
        if (auto at = xml.find(key); at != std::string_view::npos) {
            at += key.size();
            return std::string{xml.substr(at, xml.find(quote, at) - at)};
        }
    }
    return {};
}

/// One S2S stream to b.test, blocking: reads until a condition holds on what
/// was received, writes in the clear or through TLS.
class s2s_peer {
public:
    explicit s2s_peer(int fd) : fd_{fd} {}
    ~s2s_peer()
    {
        if (ssl_)
            SSL_free(ssl_);
        ::close(fd_);
    }
    s2s_peer(s2s_peer const&) = delete;
    s2s_peer& operator=(s2s_peer const&) = delete;

    bool read_more()
    {
        char chunk[65536];
        int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
        if (n <= 0)
            return false;
        seen.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    /// Reads until the element that starts with `start` is complete (its '>'),
    /// or, with `end`, until `end` follows it; drops what came before and the
    /// element itself, returns the element.
    std::string read_element(std::string_view start, std::string_view end = ">")
    {
        for (;;) {
            if (auto at = seen.find(start); at != std::string::npos) {
                if (auto stop = seen.find(end, at); stop != std::string::npos) {
                    auto element = seen.substr(at, stop + end.size() - at);
                    seen.erase(0, stop + end.size());
                    return element;
                }
            }
            if (!read_more())
                return {};
        }
    }
    bool write(std::string_view bytes)
    {
        while (!bytes.empty()) {
            int n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                         : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    bool start_tls(SSL_CTX* ctx)
    {
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        return SSL_accept(ssl_) == 1;
    }
    /// The client's certificate chained to the lab CA and names `domain`.
    bool client_is(char const* domain) const
    {
        X509* cert = SSL_get1_peer_certificate(ssl_);
        bool ok = cert && SSL_get_verify_result(ssl_) == X509_V_OK &&
                  X509_check_host(cert, domain, 0, 0, nullptr) == 1;
        X509_free(cert);
        return ok;
    }

    std::string seen;

private:
    int fd_;
    SSL* ssl_ = nullptr;
};

/// Our stream header as b.test, answering `client_header`. No dialback
/// namespace: the client must authenticate with EXTERNAL.
std::string answer_header(std::string const& client_header, unsigned stream_id)
{
    auto to = attribute(client_header, "from");
    return "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
           "xmlns:stream='http://etherx.jabber.org/streams' from='b.test' to='" +
           (to.empty() ? std::string{"a.test"} : to) + "' id='b-test-" + std::to_string(stream_id) +
           "' version='1.0'>";
}

}  // namespace

namespace {

/// Processes that stop_children() stops: our children, and adopted ones.
std::mutex processes_mutex;
std::vector<pid_t> children, adopted;

}  // namespace

pid_t spawn(std::vector<std::string> args, fs::path const& log, std::vector<std::string> const& environment)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        std::freopen(log.c_str(), "w", stdout);
        std::freopen(log.c_str(), "a", stderr);
        for (auto const& variable : environment)
            ::putenv(const_cast<char*>(variable.c_str()));  // the child execs at once: the string outlives it
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }
    std::lock_guard lock{processes_mutex};
    children.push_back(pid);
    return pid;
}

void adopt(pid_t pid)
{
    std::lock_guard lock{processes_mutex};
    adopted.push_back(pid);
}

void stop_children()
{
    std::vector<pid_t> ours, others;
    {
        std::lock_guard lock{processes_mutex};
        ours.swap(children);
        others.swap(adopted);
    }
    // The adopted first: a wrapper may wait for its server before it exits.
    for (auto pid : others)
        ::kill(pid, SIGTERM);
    for (auto pid : ours)
        ::kill(pid, SIGTERM);
    auto const gone = [](pid_t pid, bool child) {
        return child ? ::waitpid(pid, nullptr, WNOHANG) != 0 : ::kill(pid, 0) != 0;
    };
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    auto const remaining = [&] {
        std::erase_if(others, [&](pid_t pid) { return gone(pid, false); });
        std::erase_if(ours, [&](pid_t pid) { return gone(pid, true); });
        return !others.empty() || !ours.empty();
    };
    while (remaining() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    for (auto pid : others)
        ::kill(pid, SIGKILL);
    for (auto pid : ours) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
}

void stop_children_on_signals()
{
    // Ctrl-C reaches our children through the terminal, but not a server that
    // runs in a session of its own (ejabberd's node under su).
    auto const handler = [](int) {
        interrupted = true;
        stop_children();
        std::_Exit(130);
    };
    ::signal(SIGINT, handler);
    ::signal(SIGTERM, handler);
}

namespace {

/// The parent and the name (comm) of a process, from /proc/<pid>/stat.
bool parent_and_name(pid_t pid, pid_t& parent, std::string& name)
{
    std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
    std::string line;
    if (!std::getline(stat, line))
        return false;
    auto const open = line.find('('), close = line.rfind(')');
    name = line.substr(open + 1, close - open - 1);
    std::istringstream rest{line.substr(close + 2)};
    std::string state;
    rest >> state >> parent;
    return true;
}

}  // namespace

pid_t find_descendant(pid_t root, std::string_view name, std::chrono::seconds timeout)
{
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    do {
        std::map<pid_t, pid_t> parents;
        std::vector<pid_t> named;
        for (auto const& entry : fs::directory_iterator{"/proc"}) {
            pid_t pid = 0, parent = 0;
            std::string comm;
            auto const file = entry.path().filename().string();
            if (std::from_chars(file.data(), file.data() + file.size(), pid).ec != std::errc{} ||
                !parent_and_name(pid, parent, comm))
                continue;
            parents[pid] = parent;
            if (comm == name)
                named.push_back(pid);
        }
        for (auto pid : named)
            for (auto up = parents[pid]; up > 1; up = parents[up])
                if (up == root)
                    return pid;
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
    } while (std::chrono::steady_clock::now() < deadline);
    return -1;
}

bool wait_for_listener(std::uint16_t port, std::chrono::seconds timeout)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    do {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        bool const up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (up)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

pid_t start_dnsmasq(fs::path const& dir, std::uint16_t port, std::uint16_t s2s_port)
{
    std::vector<std::string> args{"/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                  "--conf-file=/dev/null", "--listen-address=127.0.0.1", "--bind-interfaces",
                                  "--port=" + std::to_string(port), "--local=/test/", "--log-queries",
                                  "--log-facility=" + (dir / "dns-queries.log").string(),
                                  "--srv-host=_xmpp-server._tcp.b.test,localhost," + std::to_string(s2s_port) + ",0,5",
                                  "--host-record=localhost,127.0.0.1", "--host-record=b.test,127.0.0.1"};
    if (::geteuid() == 0)
        args.push_back("--user=root");  // else it would drop to 'nobody', then fail to write its log
    pid_t pid = spawn(args, dir / "dnsmasq.log");
    if (!wait_for_listener(port, std::chrono::seconds{10}))  // it answers over TCP as well
        die("dnsmasq did not start; see " + (dir / "dnsmasq.log").string());
    return pid;
}

remote_server::remote_server(fs::path const& dir) : listener_{listen_on(port_)}, ctx_{SSL_CTX_new(TLS_server_method())}
{
    auto const ca = (dir / "pki/ca.crt").string();
    if (SSL_CTX_use_certificate_chain_file(ctx_, (dir / "pki/b.test.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, (dir / "pki/b.test.key").c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) != 1)
        die("cannot load b.test's certificate for its server side");
    // Ask for the client's certificate (EXTERNAL needs it); judged at <auth/>.
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    SSL_CTX_set_client_CA_list(ctx_, SSL_load_client_CA_file(ca.c_str()));
    acceptor_ = std::thread{[this] { accept_streams(); }};
}

remote_server::~remote_server()
{
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    if (acceptor_.joinable())
        acceptor_.detach();
}

void remote_server::accept_streams()
{
    for (;;) {
        int fd = accept_from(listener_);
        if (fd < 0)
            return;
        std::thread{[this, fd] { serve(fd); }}.detach();
    }
}

void remote_server::serve(int fd)
{
    static std::atomic<unsigned> streams{0};
    auto const id = ++streams;
    s2s_peer peer{fd};
    auto header = peer.read_element("<stream:stream");
    if (header.empty() ||
        !peer.write(answer_header(header, id) + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                                                "<required/></starttls></stream:features>") ||
        peer.read_element("<starttls").empty() || !peer.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
        return;
    peer.seen.clear();
    if (!peer.start_tls(ctx_)) {
        std::cerr << "bench: b.test: a TLS handshake failed\n";
        return;
    }
    header = peer.read_element("<stream:stream");
    if (header.empty() ||
        !peer.write(answer_header(header, id) + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                                "<mechanism>EXTERNAL</mechanism></mechanisms></stream:features>"))
        return;
    auto auth = peer.read_element("<auth");
    if (auth.empty())
        return;
    if (!auth.ends_with("/>") && peer.read_element("", "</auth>").empty())
        return;
    if (!peer.client_is("a.test")) {
        std::cerr << "bench: b.test: EXTERNAL refused, the client certificate is not a.test's\n";
        peer.write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>");
        return;
    }
    if (!peer.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"))
        return;
    header = peer.read_element("<stream:stream");
    if (header.empty() || !peer.write(answer_header(header, id) + "<stream:features/>"))
        return;
    ++authenticated;
    do  // what arrived with the header first
        messages += count_messages(peer.seen, {}, latencies);
    while (peer.read_more());
}

pid_t start_fedgate(std::string const& binary, fs::path const& dir, std::uint16_t s2s_port, sink& internal,
                    std::string const& secret, std::uint16_t dns_port)
{
    internal.start();
    fs::create_directories(dir / "state");
    std::ofstream{dir / "component.secret"} << secret << "\n";
    fs::permissions(dir / "component.secret", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream{dir / "fedgate.toml"} << "[gateway]\ns2s_listen = [\"127.0.0.1:" << s2s_port
                                        << "\"]\ndirect_tls_listen = []\nstate_dir = \"" << (dir / "state").string()
                                        << "\"\n[[local_domain]]\nname = \"a.test\"\ncertificate = \"pki/a.test.crt\"\n"
                                           "key = \"pki/a.test.key\"\n[internal]\nport = "
                                        << internal.port()
                                        << "\nsecret_file = \"component.secret\"\n[tls]\nca_file = \"pki/ca.crt\"\n"
                                           "[dns]\nservers = [\"127.0.0.1:"
                                        << dns_port
                                        << "\"]\n[limits]\nconnections_per_ip = 100000\n"
                                           "max_inbound_connections = 1000000\n"
                                           "[log]\nlevel = \"warn\"\n[[partner]]\ndomain = \"b.test\"\n"
                                           "type = \"federated\"\ntls = \"required\"\nsasl = \"required\"\n"
                                           "dialback = false\n";
    return spawn({binary, "run", "-c", (dir / "fedgate.toml").string()}, dir / "fedgate.log");
}

namespace {

/// A Prosody module that points its resolver (the legacy one, without
/// lua-unbound) at 127.0.0.1:port: net.dns reads /etc/resolv.conf and asks port
/// 53, neither of which a setting changes. Resolvers share one metatable, so
/// replacing its methods reaches every lookup made after the module loads.
void write_prosody_dns_module(fs::path const& plugins, std::uint16_t port)
{
    fs::create_directories(plugins);
    std::ofstream{plugins / "mod_bench_dns.lua"}
        << "local methods = getmetatable(require \"net.dns\".resolver());\n"
           "function methods:adddefaultnameservers() self:addnameserver(\"127.0.0.1\"); end\n"
           "local socket_wrapper_set = methods.socket_wrapper_set;\n"
           "function methods:socket_wrapper_set(wrapper)\n"
           "  return socket_wrapper_set(self, function (sock, resolver)\n"
           "    local handler, err = wrapper(sock, resolver);\n"
           "    if not handler then return handler, err; end\n"
           "    local setpeername = handler.setpeername;\n"
           "    handler.setpeername = function (h, address) return setpeername(h, address, "
        << port
        << "); end\n"
           "    return handler;\n"
           "  end);\n"
           "end\n";
}

}  // namespace

pid_t start_prosody(std::string const& binary, fs::path const& dir, std::uint16_t s2s_port, sink& internal,
                    std::string const& secret, std::uint16_t dns_port)
{
    auto const component_port = free_port();
    auto const d = dir.string();
    fs::create_directories(dir / "data");
    write_prosody_dns_module(dir / "plugins", dns_port);
    std::ofstream{dir / "prosody.cfg.lua"}
        << (::geteuid() == 0 ? "run_as_root = true\n" : "") << "pidfile = \"" << d << "/prosody.pid\"\n"
        << "data_path = \"" << d << "/data\"\nlog = { warn = \"" << d << "/prosody.log\" }\n"
        << "interfaces = { \"127.0.0.1\" }\nc2s_ports = { " << free_port() << " }\ns2s_ports = { " << s2s_port
        << " }\ncomponent_ports = { " << component_port << " }\ncomponent_interface = \"127.0.0.1\"\n"
        << "plugin_paths = { \"" << d << "/plugins\" }\n"
        << "modules_enabled = { \"tls\", \"saslauth\", \"dialback\", \"bench_dns\" }\n"
        << "s2s_require_encryption = true\ns2s_secure_auth = true\n"
        << "ssl = { cafile = \"" << d << "/pki/ca.crt\" }\ncertificates = \"" << d << "/pki\"\n"
        << "VirtualHost \"a.test\"\n"
        << "Component \"sink.a.test\"\n  component_secret = \"" << secret << "\"\n"
        << "  validate_from_addresses = false\n";
    pid_t pid = spawn({binary, "-F", "--config", d + "/prosody.cfg.lua"}, dir / "prosody.out");
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    internal.connect_as(component_port, "sink.a.test", secret);
    return pid;
}

namespace {

/// The Erlang resolver's configuration: only the benchmark's dnsmasq (not the
/// nameservers of /etc/resolv.conf), and DNS (not the C library) for names.
void write_inetrc(fs::path const& file, std::uint16_t dns_port)
{
    std::ofstream{file} << "{resolv_conf, \"\"}.\n{nameserver, {127,0,0,1}, " << dns_port
                        << "}.\n{host, {127,0,0,1}, [\"localhost\"]}.\n{lookup, [file, dns]}.\n";
}

/// ejabberdctl runs the node as the ejabberd user when started by root: it must
/// reach the configuration, the CA and its own directory.
void hand_to_ejabberd_user(fs::path const& dir, fs::path const& own)
{
    if (::geteuid() != 0)
        return;
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(dir / "pki", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(dir / "pki/ca.crt", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                            fs::perms::others_read);
    if (std::system(("chown -R ejabberd '" + own.string() + "'").c_str()) != 0)
        die("cannot give " + own.string() + " to the ejabberd user");
}

}  // namespace

pid_t start_ejabberd(std::string const& ejabberdctl, fs::path const& dir, std::uint16_t s2s_port, sink& internal,
                     std::string const& secret, std::uint16_t dns_port)
{
    auto const own = dir / "ejabberd";
    auto const o = own.string();
    auto const component_port = free_port();
    fs::create_directories(own / "spool");
    fs::create_directories(own / "logs");
    {
        std::ofstream pem{own / "a.test.pem"};
        pem << std::ifstream{dir / "pki/a.test.crt"}.rdbuf() << std::ifstream{dir / "pki/a.test.key"}.rdbuf();
    }
    // check_from: false lets the component send from a.test (the outbound direction).
    std::ofstream{own / "ejabberd.yml"}
        << "hosts: [\"a.test\"]\nloglevel: warning\ncertfiles: [\"" << o << "/a.test.pem\"]\n"
        << "ca_file: \"" << dir.string() << "/pki/ca.crt\"\n"
        << "s2s_use_starttls: required\noutgoing_s2s_families: [ipv4]\n"
        << "listen:\n  - {port: " << s2s_port << ", ip: \"127.0.0.1\", module: ejabberd_s2s_in}\n"
        << "  - port: " << component_port << "\n    ip: \"127.0.0.1\"\n    module: ejabberd_service\n"
        << "    check_from: false\n    hosts:\n      \"sink.a.test\":\n        password: \"" << secret << "\"\n"
        << "modules: {}\n";
    // Read by ejabberdctl: ERL_DIST_PORT makes the node listen there with no
    // epmd at all (nothing left running, nothing shared with other nodes);
    // a cookie of our own, not the ejabberd user's.
    std::ofstream{own / "ejabberdctl.cfg"}
        << "ERL_DIST_PORT=" << free_port() << "\nEJABBERD_PID_PATH=" << o << "/ejabberd.pid\n"
        << "ERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0 -setcookie relay-bench-" << ::getpid() << "\"\n";
    write_inetrc(own / "inetrc", dns_port);  // ejabberdctl sets ERL_INETRC to <config dir>/inetrc
    hand_to_ejabberd_user(dir, own);
    pid_t wrapper = spawn({ejabberdctl, "--config-dir", o, "--spool", o + "/spool", "--logs", o + "/logs", "--node",
                           "relaybench" + std::to_string(::getpid()) + "@localhost", "foreground"},
                          own / "stdout.log");
    // ejabberdctl -> su -> sh -> erl, which execs beam.smp: the VM is a grandchild.
    pid_t vm = find_descendant(wrapper, "beam.smp", std::chrono::seconds{30});
    if (vm < 0)
        die("ejabberd's Erlang VM did not start; see " + (own / "stdout.log").string());
    adopt(vm);
    if (!wait_for_listener(component_port, std::chrono::seconds{60}))
        die("ejabberd did not open its component port; see " + o + "/logs");
    internal.connect_as(component_port, "sink.a.test", secret);
    return vm;
}

void make_certificates(std::string const& source_dir, fs::path const& dir, bool xmpp_addr)
{
    auto const command = "bash '" + source_dir + "/scripts/make-demo-certs' " +
                         (xmpp_addr ? "" : "--no-xmpp-addr ") + "'" + (dir / "pki").string() +
                         "' a.test b.test >/dev/null";
    if (std::system(command.c_str()) != 0)
        die("cannot make the test certificates");
}

SSL_CTX* partner_context(fs::path const& dir)
{
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (SSL_CTX_load_verify_locations(ctx, (dir / "pki/ca.crt").c_str(), nullptr) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, (dir / "pki/b.test.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, (dir / "pki/b.test.key").c_str(), SSL_FILETYPE_PEM) != 1)
        die("cannot load b.test's certificate");
    return ctx;
}

void raise_descriptor_limit()
{
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    rlimit wanted{1 << 20, 1 << 20};
    if (::setrlimit(RLIMIT_NOFILE, &wanted) != 0) {  // not root: as far as the hard limit
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
}

}  // namespace fedgate::bench
