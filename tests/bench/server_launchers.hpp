#pragma once
/// @file
/// The servers a benchmark runs, as children (see spawn()): the server under
/// test (fedgate, Prosody or ejabberd) linked to the sink, and the dnsmasq that
/// makes b.test resolve to the benchmark.

#include "tests/bench/component_sink.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace fedgate::bench {

/// dnsmasq on 127.0.0.1:port (UDP and TCP), answering for .test only: the SRV
/// record _xmpp-server._tcp.b.test -> localhost:s2s_port, localhost and b.test
/// -> 127.0.0.1. The SRV target is localhost because ejabberd 23.01 resolves
/// it with getaddrinfo (net:getaddrinfo in xmpp_stream_out:a_lookup), which
/// ignores the Erlang resolver's nameserver and reads /etc/hosts and
/// /etc/resolv.conf; localhost is in /etc/hosts everywhere.
pid_t start_dnsmasq(std::filesystem::path const& dir, std::uint16_t port, std::uint16_t s2s_port);

/// `fedgate run` as the S2S edge of a.test on 127.0.0.1:s2s_port, linked to
/// `internal` as its component; partner b.test must use TLS and EXTERNAL.
/// Its resolver is the dnsmasq on 127.0.0.1:dns_port (the outbound direction).
/// It runs `worker_threads` event loops.
pid_t start_fedgate(std::string const& binary, std::filesystem::path const& dir, std::uint16_t s2s_port,
                    sink& internal, std::string const& secret, std::uint16_t dns_port = 9,
                    unsigned worker_threads = 1);
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


}  // namespace fedgate::bench
