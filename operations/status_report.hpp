#pragma once
/// @file
/// The status document `fedgate status` prints (its JSON, version 1, is
/// documented in fedgate(8)): the daemon, then one entry per partner with its
/// terms, health, queues, each direction's state by stage and the
/// certificates it presented. Built by the daemon from the partner state
/// tracker; read back and drawn as a table by the command. Sans-I/O.

#include "conf/config.hpp"
#include "operations/partner_state.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <vector>

namespace fedgate::operations {

/// The document's format; a change that removes or renames a field raises it.
inline constexpr int status_version = 1;

struct daemon_facts {
    std::string version;  ///< fedgate's
    long pid = 0;
    wall_time started{};
    std::string config_file;
    bool store_up = true;
};

/// Stanzas waiting in fedgate for one partner (all its domains).
struct partner_queues {
    std::size_t outbound = 0;  ///< for the partner, while its stream is not up
    std::size_t internal = 0;  ///< from it, for the internal server
};

/// "up" (a stream is authenticated now), "failing" (the last attempt failed
/// and none is up), "idle" (never tried, or the last attempt succeeded and
/// its streams closed since).
[[nodiscard]] std::string_view health_of(direction_state const& d) noexcept;

[[nodiscard]] boost::json::object status_document(daemon_facts const& daemon, conf::config const& cfg,
                                                  std::vector<partner_state_row> const& rows,
                                                  std::map<std::string, partner_queues, std::less<>> const& queued,
                                                  wall_time now);

/// The table `fedgate status` prints: one row per partner, then a line per
/// failing direction with its stage, reason and advice.
[[nodiscard]] std::string status_text(boost::json::object const& document);

/// Whether some partner's health is "failing" (exit status 1).
[[nodiscard]] bool any_partner_failing(boost::json::object const& document);

/// "2026-12-05T17:02:05Z"; "" for the epoch (never).
[[nodiscard]] std::string utc_text(wall_time t);

}  // namespace fedgate::operations
