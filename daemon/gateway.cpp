#include "daemon/gateway.hpp"

#include "daemon/listener.hpp"
#include "daemon/router.hpp"
#include "daemon/runtime.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <stdexcept>

namespace fedgate::daemon {

namespace asio = boost::asio;

namespace {

/// How long a clean stop may take before the remaining streams are cut.
constexpr std::chrono::seconds stop_limit{10};

void set_up_logging(conf::log_settings const& log)
{
    // stderr: the journal under systemd, the terminal otherwise.
    auto logger = spdlog::stderr_color_mt("fedgate");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(log.level));
    spdlog::flush_on(spdlog::level::info);
}

}  // namespace

int run_gateway(conf::config cfg)
{
    set_up_logging(cfg.log);
    asio::io_context io{1};
    std::unique_ptr<runtime> rt;
    std::vector<std::unique_ptr<listener>> listeners;
    try {
        rt = build_runtime(std::move(cfg), io.get_executor());
    } catch (std::exception const& e) {
        spdlog::critical("{}; nothing was started", e.what());
        return 1;
    }
    router hub{io.get_executor(), *rt};
    try {
        for (auto const& where : rt->cfg.gateway.s2s_listen)
            listeners.push_back(std::make_unique<listener>(io.get_executor(), where, false, hub));
        for (auto const& where : rt->cfg.gateway.direct_tls_listen)
            listeners.push_back(std::make_unique<listener>(io.get_executor(), where, true, hub));
    } catch (std::exception const& e) {
        spdlog::critical("{}; nothing was started", e.what());
        return 1;
    }
    for (auto& l : listeners) {
        l->start();
        spdlog::info("listening on {}", l->describe());
    }
    hub.start();
    spdlog::info("fedgate {} running: {} local domains, {} partners, internal server {} port {}", FEDGATE_VERSION,
                 rt->cfg.local_domains.size(), rt->cfg.partners.size(), rt->cfg.internal.host, rt->cfg.internal.port);

    asio::signal_set signals{io, SIGINT, SIGTERM};
    asio::steady_timer deadline{io};
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec)
            return;
        spdlog::info("{} received: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
        for (auto& l : listeners)
            l->stop();
        hub.stop([&] {
            deadline.cancel();
            io.stop();
        });
        deadline.expires_after(stop_limit);
        deadline.async_wait([&](boost::system::error_code timer_ec) {
            if (!timer_ec) {
                spdlog::warn("streams still open after {} s: cut", stop_limit.count());
                io.stop();
            }
        });
    });
    io.run();
    spdlog::info("stopped");
    return 0;
}

}  // namespace fedgate::daemon
