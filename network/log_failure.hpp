#pragma once
/// @file
/// The completion handler for every co_spawn in the daemon: an exception that
/// escapes a coroutine is a bug to log, not a reason for std::terminate (which
/// asio::detached would call).

#include <spdlog/spdlog.h>

#include <exception>
#include <string>

namespace fedgate::network {

inline auto log_failure(std::string what)
{
    return [what = std::move(what)](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (std::exception const& ex) {
            spdlog::error("{}: {}", what, ex.what());
        } catch (...) {
            spdlog::error("{}: unknown exception", what);
        }
    };
}

}  // namespace fedgate::network
