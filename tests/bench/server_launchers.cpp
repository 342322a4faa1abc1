#include "tests/bench/server_launchers.hpp"

#include "tests/bench/bench_lab.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

namespace fedgate::bench {

namespace fs = std::filesystem;

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

pid_t start_fedgate(std::string const& binary, fs::path const& dir, std::uint16_t s2s_port, sink& internal,
                    std::string const& secret, std::uint16_t dns_port, unsigned worker_threads)
{
    internal.start();
    fs::create_directories(dir / "state");
    std::ofstream{dir / "component.secret"} << secret << "\n";
    fs::permissions(dir / "component.secret", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream{dir / "fedgate.toml"} << "[gateway]\nworker_threads = " << worker_threads << "\ns2s_listen = [\"127.0.0.1:" << s2s_port
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
        // With lua-unbound (which Debian's prosody recommends), libunbound
        // resolves instead of net.dns: pointed at the same dnsmasq, and told
        // that the special-use .test names may be asked of it (RFC 6761).
        << "unbound = { resolvconf = false, forward = \"127.0.0.1@" << dns_port
        << "\", options = { [\"local-zone\"] = \"test. transparent\" } }\n"
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

}  // namespace fedgate::bench
