#include "tests/bench/bench_lab.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

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

namespace {

/// Latency is measured per stanza: no Nagle delay on the benchmark's side of
/// any connection (fedgate sets the same on its own).
void no_delay(int fd)
{
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

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

void make_certificates(std::string const& source_dir, fs::path const& dir, bool xmpp_addr)
{
    auto const command = "bash '" + source_dir + "/scripts/make-demo-certs' " +
                         (xmpp_addr ? "" : "--no-xmpp-addr ") + "'" + (dir / "pki").string() +
                         "' a.test b.test >/dev/null";
    if (std::system(command.c_str()) != 0)
        die("cannot make the test certificates");
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
