#include "tests/bench/bench_lab.hpp"

#include <openssl/sha.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fedgate::bench {

namespace fs = std::filesystem;

[[noreturn]] void die(std::string const& what)
{
    std::cerr << "bench: " << what << "\n";
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

int connect_to(std::uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

void sink::serve()
{
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0)
        return;
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
    count(fd);
}

void sink::join(std::uint16_t port, std::string const& domain, std::string const& secret)
{
    int fd = connect_to(port);
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
    static constexpr std::string_view end = "</message>";
    std::string tail;
    for (;;) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return;
        tail.append(chunk, static_cast<std::size_t>(n));
        std::uint64_t found = 0;
        std::size_t at = 0;
        while ((at = tail.find(end, at)) != std::string::npos) {
            ++found;
            at += end.size();
        }
        messages += found;
        // Keep what could be the start of a split "</message>".
        tail.erase(0, tail.size() > end.size() ? tail.size() - end.size() + 1 : 0);
    }
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
    std::string head = "<message from='user" + std::to_string(stream) + "@b.test/bench' to='alice@" + to_domain +
                       "' type='chat' id='" +
                       std::to_string(stream) + "-" + std::to_string(n) + "'><body>";
    std::string tail = "</body></message>";
    return head + std::string(300 - head.size() - tail.size(), 'x') + tail;
}

pid_t spawn(std::vector<std::string> args, fs::path const& log)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        std::freopen(log.c_str(), "w", stdout);
        std::freopen(log.c_str(), "a", stderr);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }
    return pid;
}

pid_t start_fedgate(std::string const& binary, fs::path const& dir, std::uint16_t s2s_port, sink& internal,
                    std::string const& secret)
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
                                           "[dns]\nservers = [\"127.0.0.1:9\"]\n[limits]\nconnections_per_ip = 100000\n"
                                           "max_inbound_connections = 1000000\n"
                                           "[log]\nlevel = \"warn\"\n[[partner]]\ndomain = \"b.test\"\n"
                                           "type = \"federated\"\ntls = \"required\"\nsasl = \"required\"\n"
                                           "dialback = false\n";
    return spawn({binary, "run", "-c", (dir / "fedgate.toml").string()}, dir / "fedgate.log");
}

pid_t start_prosody(std::string const& binary, fs::path const& dir, std::uint16_t s2s_port, sink& internal,
                    std::string const& secret)
{
    auto const component_port = free_port();
    auto const d = dir.string();
    fs::create_directories(dir / "data");
    std::ofstream{dir / "prosody.cfg.lua"}
        << (::geteuid() == 0 ? "run_as_root = true\n" : "") << "pidfile = \"" << d << "/prosody.pid\"\n"
        << "data_path = \"" << d << "/data\"\nlog = { warn = \"" << d << "/prosody.log\" }\n"
        << "interfaces = { \"127.0.0.1\" }\nc2s_ports = { " << free_port() << " }\ns2s_ports = { " << s2s_port
        << " }\ncomponent_ports = { " << component_port << " }\ncomponent_interface = \"127.0.0.1\"\n"
        << "modules_enabled = { \"tls\", \"saslauth\", \"dialback\" }\n"
        << "s2s_require_encryption = true\ns2s_secure_auth = true\n"
        << "ssl = { cafile = \"" << d << "/pki/ca.crt\" }\ncertificates = \"" << d << "/pki\"\n"
        << "VirtualHost \"a.test\"\n"
        << "Component \"sink.a.test\"\n  component_secret = \"" << secret << "\"\n";
    pid_t pid = spawn({binary, "-F", "--config", d + "/prosody.cfg.lua"}, dir / "prosody.out");
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    internal.connect_as(component_port, "sink.a.test", secret);
    return pid;
}

void make_certificates(std::string const& source_dir, fs::path const& dir)
{
    auto const command = "bash '" + source_dir + "/scripts/make-demo-certs' '" + (dir / "pki").string() +
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
