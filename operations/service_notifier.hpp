#pragma once
/// @file
/// What systemd hears from fedgate (sd_notify): READY=1 once listeners and
/// component links are set up, RELOADING=1 then READY=1 around a reload,
/// STOPPING=1 on shutdown, STATUS= lines, and WATCHDOG=1 pings from the event
/// loop itself when the unit sets WatchdogSec= (a hung loop stops pinging). Does
/// nothing outside systemd (no NOTIFY_SOCKET).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>

namespace fedgate::operations {

class service_notifier {
public:
    explicit service_notifier(boost::asio::any_io_executor executor);
    void ready(std::string const& status);
    void reloading();
    void stopping();
    /// Starts the pings when systemd asked for them (WATCHDOG_USEC).
    void start_watchdog();
    void stop_watchdog();

private:
    void ping();
    boost::asio::steady_timer timer_;
    std::chrono::microseconds interval_{0};
};

}  // namespace fedgate::operations
