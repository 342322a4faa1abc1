#pragma once
/// @file
/// What every benchmark needs around the server under test: sockets on
/// loopback, the server (and its helpers) as child processes, its CPU time and
/// memory from /proc, the test certificates. Benchmarks measure; they never
/// assert. The lab's other parts: stamped_messages.hpp (the messages and their
/// latency), component_sink.hpp (the internal server), partner_stream.hpp and
/// remote_server.hpp (partner b.test, both directions), server_launchers.hpp.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::bench {

[[noreturn]] void die(std::string const& what);

/// A listening TCP socket on 127.0.0.1; `port` receives the port chosen.
int listen_on(std::uint16_t& port);
std::uint16_t free_port();
/// Connects to 127.0.0.1:port, retrying for 5 s while the server starts.
int connect_to(std::uint16_t port);
/// accept(2) on `listener`, without Nagle's algorithm; -1 when it failed.
int accept_from(int listener);

/// A process's CPU seconds so far (utime + stime).
double cpu_seconds(pid_t pid);
long current_rss_kib(pid_t pid);
/// VmHWM.
long peak_rss_kib(pid_t pid);

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

/// Raises the descriptor limit as far as the process may (root: 1,048,576);
/// children inherit it.
void raise_descriptor_limit();

}  // namespace fedgate::bench
