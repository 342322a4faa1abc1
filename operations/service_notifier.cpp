#include "operations/service_notifier.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace fedgate::operations {

service_notifier::service_notifier(boost::asio::any_io_executor executor) : timer_{std::move(executor)}
{
}

void service_notifier::ready(std::string const& status)
{
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void service_notifier::reloading()
{
    sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void service_notifier::stopping()
{
    sd_notify(0, "STOPPING=1\nSTATUS=closing streams");
}

void service_notifier::start_watchdog()
{
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    // Twice per period, as sd_watchdog_enabled(3) advises.
    interval_ = std::chrono::microseconds{usec / 2};
    spdlog::info("systemd watchdog: a ping every {} ms", interval_.count() / 1000);
    ping();
}

void service_notifier::ping()
{
    sd_notify(0, "WATCHDOG=1");
    timer_.expires_after(interval_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            ping();
    });
}

void service_notifier::stop_watchdog()
{
    timer_.cancel();
}

}  // namespace fedgate::operations
