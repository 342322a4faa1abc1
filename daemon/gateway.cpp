#include "daemon/gateway.hpp"

#include "network/descriptor_reserve.hpp"
#include "network/event_loops.hpp"
#include "network/listener.hpp"
#include "operations/listen_overflows.hpp"
#include "operations/metric_names.hpp"
#include "operations/open_files.hpp"
#include "operations/control_server.hpp"
#include "operations/metrics_server.hpp"
#include "operations/service_notifier.hpp"
#include "routing/router.hpp"
#include "routing/runtime.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <expat.h>
#include <openssl/crypto.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <unistd.h>
#include <stdexcept>

namespace fedgate::daemon {

namespace asio = boost::asio;
using network::listener;
using operations::control_server;
using operations::metrics_server;
using operations::service_notifier;
using routing::build_runtime;
using routing::router;
using routing::runtime;

namespace {

/// How long a clean stop may take before the remaining streams are cut.
constexpr std::chrono::seconds stop_limit{10};

void set_up_logging(conf::log_settings const& log)
{
    // stderr: the journal under systemd, the terminal otherwise.
    auto logger = spdlog::get("fedgate");
    if (!logger) {
        logger = spdlog::stderr_color_mt("fedgate");
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
        spdlog::set_default_logger(logger);
        spdlog::flush_on(spdlog::level::info);
    }
    spdlog::set_level(spdlog::level::from_str(log.level));
}

/// "1 partner", "2 partners".
std::string counted(std::size_t n, std::string_view noun)
{
    return std::to_string(n) + " " + std::string{noun} + (n == 1 ? "" : "s");
}

/// The running gateway: what SIGHUP and SIGTERM act on.
class gateway {
public:
    gateway(network::event_loops& loops, std::filesystem::path config_file)
        : loops_{loops}, io_{loops.main()}, config_file_{std::move(config_file)}, signals_{io_, SIGINT, SIGTERM},
          hangup_{io_, SIGHUP}, deadline_{io_}, overflow_clock_{io_}, notifier_{io_.get_executor()}
    {
    }

    /// Sets everything up; false (after a log line) when it cannot start.
    bool start(conf::config cfg)
    {
        try {
            rt_ = build_runtime(std::move(cfg), io_.get_executor());
            reserve_socket_records();
            auto const next_loop = [&loops = loops_] { return loops.next(); };
            hub_ = std::make_unique<router>(io_.get_executor(), rt_, next_loop);
            auto const to_router = [hub = hub_.get()](boost::asio::ip::tcp::socket s, bool direct_tls) {
                hub->accept(std::move(s), direct_tls);
            };
            for (auto const& where : rt_->cfg.gateway.s2s_listen)
                listeners_.push_back(
                    std::make_unique<listener>(io_.get_executor(), where, false, to_router, next_loop));
            for (auto const& where : rt_->cfg.gateway.direct_tls_listen)
                listeners_.push_back(std::make_unique<listener>(io_.get_executor(), where, true, to_router, next_loop));
            // [internal] mode = "s2s": the internal server's streams, on addresses of their own.
            if (rt_->cfg.internal.mode == conf::internal_settings::link_mode::s2s) {
                auto const to_internal_leg = [hub = hub_.get()](boost::asio::ip::tcp::socket s, bool) {
                    hub->accept_internal(std::move(s));
                };
                for (auto const& where : rt_->cfg.internal.listen)
                    listeners_.push_back(
                        std::make_unique<listener>(io_.get_executor(), where, false, to_internal_leg, next_loop));
            }
            if (rt_->cfg.metrics.listen)
                metrics_ = std::make_unique<metrics_server>(io_.get_executor(), *rt_->cfg.metrics.listen, hub_->stats());
        } catch (std::exception const& e) {
            spdlog::critical("{}; nothing was started", e.what());
            return false;
        }
        for (auto& l : listeners_) {
            l->start();
            spdlog::info("listening on {}", l->describe());
        }
        hub_->start();
        if (metrics_) {
            metrics_->start();
            spdlog::info("metrics on http://{}:{}/metrics", rt_->cfg.metrics.listen->host, rt_->cfg.metrics.listen->port);
        }
        spdlog::info("fedgate {} running: {}, {}, internal server {} port {}, {}", FEDGATE_VERSION,
                     counted(rt_->cfg.local_domains.size(), "local domain"), counted(rt_->cfg.partners.size(), "partner"),
                     rt_->cfg.internal.host, rt_->cfg.internal.port, counted(loops_.size(), "thread"));
        hub_->on_settled([this] {
            spdlog::info("ready");
            notifier_.ready(summary());
        });
        open_control_socket();
        notifier_.start_watchdog();
        hub_->stats().count(operations::metric::listen_overflows, {}, 0);  // present from the start
        hub_->stats().gauge_source([](std::vector<operations::metrics::sample>& out) {
            out.push_back({operations::metric::build_info,
                           {{"version", FEDGATE_VERSION},
                            {"openssl", OpenSSL_version(OPENSSL_VERSION_STRING)},
                            {"expat", XML_ExpatVersion()}},
                           1});
        });
        if (!overflows_.available())
            spdlog::warn("this kernel does not show listen queue overflows (/proc/net/netstat): "
                         "fedgate_listen_overflows_total stays 0");
        watch_listen_queues();
        wait_for_stop();
        wait_for_reload();
        return true;
    }

private:
    /// Room for every inbound connection the limits allow, and the outbound
    /// and component streams of every partner domain (descriptor_reserve.hpp).
    void reserve_socket_records()
    {
        std::size_t domains = 0;
        for (auto const& p : rt_->cfg.partners)
            domains += 1 + p.additional_domains.size();
        // Each loop has its own reactor: the inbound connections are spread
        // over them (event_loops.hpp: loop 0 takes half the others' share),
        // and loop 0 has the outbound and component streams besides.
        auto const inbound = std::size_t{rt_->cfg.limits.max_inbound_connections};
        auto const shares = 2 * loops_.size() - 1;
        std::size_t wanted = 0;
        std::size_t made = 0;
        for (std::size_t i = 0; i < loops_.size(); ++i) {
            auto const here = i == 0 ? inbound / shares + 3 * domains + 64 : 2 * inbound / shares + 64;
            wanted += here;
            made += network::reserve_descriptor_records(loops_.executor_of(i), here);
        }
        if (made < wanted)
            spdlog::warn("only {} file descriptors free at start for {} wanted (max_inbound_connections and the "
                         "partners' streams): raise LimitNOFILE", made, wanted);
    }

    /// `fedgate status` asks here. Without it the gateway runs all the same:
    /// a warning says why the command will not reach this instance.
    void open_control_socket()
    {
        auto const& path = rt_->cfg.control.socket;
        if (path.empty())
            return;
        std::string why;
        control_ = control_server::open(io_.get_executor(), path,
                                        [this](std::string_view request) { return answer(request); }, why);
        if (!control_) {
            spdlog::warn("no control socket: {}; `fedgate status` cannot ask this instance", why);
            return;
        }
        control_->start();
        spdlog::info("control socket {} (fedgate status)", path.string());
    }

    std::string answer(std::string_view request) const
    {
        if (request != operations::status_request)
            return R"({"error":"unknown request: the control socket answers 'status'"})" "\n";
        operations::daemon_facts const daemon{.version = FEDGATE_VERSION,
                                              .pid = static_cast<long>(::getpid()),
                                              .started = started_,
                                              .config_file = config_file_.string(),
                                              .store_up = *rt_->store_up};
        auto const document = operations::status_document(daemon, rt_->cfg, hub_->partner_states().snapshot(),
                                                          hub_->partner_queues(), std::chrono::system_clock::now());
        return boost::json::serialize(document) + "\n";
    }

    std::string summary() const
    {
        return "serving " + counted(rt_->cfg.local_domains.size(), "local domain") + " for " +
               counted(rt_->cfg.partners.size(), "partner");
    }

    void wait_for_stop()
    {
        signals_.async_wait([this](boost::system::error_code ec, int signal) {
            if (ec)
                return;
            spdlog::info("{} received: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
            notifier_.stopping();
            hangup_.cancel();
            overflow_clock_.cancel();
            for (auto& l : listeners_)
                l->stop();
            if (metrics_)
                metrics_->stop();
            if (control_)
                control_->stop();
            hub_->stop([this] {
                spdlog::info("stopped cleanly: {}", hub_->traffic_summary());
                deadline_.cancel();
                notifier_.stop_watchdog();
                io_.stop();
            });
            deadline_.expires_after(stop_limit);
            deadline_.async_wait([this](boost::system::error_code timer_ec) {
                if (!timer_ec) {
                    spdlog::warn("streams still open after {} s: cut; {}", stop_limit.count(), hub_->traffic_summary());
                    io_.stop();
                }
            });
        });
    }

    /// Once a second: did the kernel drop connections on a full listen queue?
    void watch_listen_queues()
    {
        overflow_clock_.expires_after(std::chrono::seconds{1});
        overflow_clock_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            if (auto const dropped = overflows_.new_overflows(); dropped > 0) {
                hub_->stats().count(operations::metric::listen_overflows, {}, dropped);
                spdlog::warn("the kernel dropped {} connection attempts in the last second on a full listen queue "
                             "(ListenOverflows of this network namespace, which counts other programs' queues too): "
                             "fedgate accepts too slowly, or net.core.somaxconn is too small for the load",
                             dropped);
            }
            watch_listen_queues();
        });
    }

    void wait_for_reload()
    {
        hangup_.async_wait([this](boost::system::error_code ec, int) {
            if (ec)
                return;
            notifier_.reloading();
            reload();
            notifier_.ready(summary());
            wait_for_reload();
        });
    }

    /// SIGHUP: the configuration and certificates again. An invalid result
    /// changes nothing and is logged with check-config's messages.
    void reload()
    {
        spdlog::info("SIGHUP received: reloading {}", config_file_.string());
        auto loaded = conf::load_file(config_file_);
        // The log line's level says error or warning; the finding does not again.
        for (auto const& d : loaded.findings)
            spdlog::log(d.level == conf::diagnostic::severity::warning ? spdlog::level::warn : spdlog::level::err,
                        "{}: {}", d.where(), d.message);
        if (!loaded.ok()) {
            spdlog::error("reload refused: {} is invalid; nothing was changed", config_file_.string());
            return;
        }
        auto const& next = *loaded.cfg;
        if (next.internal.mode != rt_->cfg.internal.mode) {
            spdlog::error("reload refused: [internal] mode changed, which takes a restart; nothing was changed");
            return;
        }
        if (next.internal.listen != rt_->cfg.internal.listen)
            spdlog::warn("[internal] listen changed: that takes a restart");
        if (next.gateway.s2s_listen != rt_->cfg.gateway.s2s_listen ||
            next.gateway.direct_tls_listen != rt_->cfg.gateway.direct_tls_listen)
            spdlog::warn("the listening addresses changed: that takes a restart");
        if (next.gateway.state_dir.path != rt_->cfg.gateway.state_dir.path)
            spdlog::warn("state_dir changed: that takes a restart (the relationship store stays open)");
        if (next.control.socket != rt_->cfg.control.socket)
            spdlog::warn("[control] socket changed: that takes a restart (fedgate status asks {} until then)",
                         rt_->cfg.control.socket.string());
        if (next.metrics.listen != rt_->cfg.metrics.listen)
            spdlog::warn("[metrics] listen changed: that takes a restart (metrics stay where they are)");
        if (next.gateway.worker_threads != rt_->cfg.gateway.worker_threads)
            spdlog::warn("worker_threads changed: that takes a restart");
        // conninfo_file's text too: a new password in it is as much a change as a new file.
        bool const postgresql = next.store.backend == conf::store_settings::kind::postgresql;
        if (next.store.backend != rt_->cfg.store.backend || next.store.conninfo != rt_->cfg.store.conninfo ||
            next.store.conninfo_file.path != rt_->cfg.store.conninfo_file.path ||
            next.store.write_deadline != rt_->cfg.store.write_deadline ||
            (postgresql && conf::store_conninfo(next.store).value_or("") != rt_->store_conninfo))
            spdlog::warn("[store] changed: that takes a restart (the relationship store stays open with its settings)");
        std::shared_ptr<runtime> fresh;
        try {
            fresh = build_runtime(std::move(*loaded.cfg), io_.get_executor(), false);
        } catch (std::exception const& e) {
            spdlog::error("reload refused: {}; nothing was changed", e.what());
            return;
        }
        // The one open store moves over once everything else was built.
        fresh->relationships = std::move(rt_->relationships);
        fresh->store_up = rt_->store_up;
        fresh->store_conninfo = rt_->store_conninfo;
        // Without a secret file the secret is random per start, not per reload:
        // streams of both generations must agree on dialback keys.
        if (fresh->cfg.gateway.dialback_secret_file.empty())
            fresh->dialback = rt_->dialback;
        if (fresh->cfg.log.level != rt_->cfg.log.level) {
            spdlog::info("log level {} (was {})", fresh->cfg.log.level, rt_->cfg.log.level);
            spdlog::set_level(spdlog::level::from_str(fresh->cfg.log.level));
        }
        auto const changes = hub_->reload(fresh);
        rt_ = std::move(fresh);
        spdlog::info("reloaded: {}", changes);
    }

    network::event_loops& loops_;
    asio::io_context& io_;
    std::filesystem::path config_file_;
    std::shared_ptr<runtime> rt_;
    std::unique_ptr<router> hub_;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::unique_ptr<metrics_server> metrics_;
    std::unique_ptr<control_server> control_;
    std::chrono::system_clock::time_point const started_ = std::chrono::system_clock::now();
    asio::signal_set signals_;
    asio::signal_set hangup_;
    asio::steady_timer deadline_;
    asio::steady_timer overflow_clock_;
    operations::listen_overflow_watch overflows_;
    service_notifier notifier_;
};

}  // namespace

int run_gateway(conf::config cfg)
{
    set_up_logging(cfg.log);
    if (auto const files = operations::raise_open_file_limit(); files && files->after > files->before)
        spdlog::info("open files: limit raised from {} to {} (the hard limit)", files->before, files->after);
    else if (files)
        spdlog::debug("open files: limit {}", files->after);
    // Declared first, freed last: the gateway's streams live on these loops.
    network::event_loops loops{cfg.gateway.worker_threads};
    auto const file = cfg.file;
    gateway g{loops, file};
    if (!g.start(std::move(cfg)))
        return 1;
    loops.run_main();
    spdlog::info("stopped");
    return 0;
}

}  // namespace fedgate::daemon
