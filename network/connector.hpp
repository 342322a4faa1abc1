#pragma once
/// @file
/// Connecting to the first reachable of a partner's candidates, Happy Eyeballs
/// style (RFC 8305 §5): the first attempt starts at once, the next one after a
/// short delay if the earlier ones have not succeeded yet (they keep running),
/// and the first connection made wins; the others are abandoned.

#include "dns/records.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fedgate::network {

struct connect_timing {
    std::chrono::milliseconds stagger{250};    ///< RFC 8305 §5 "Connection Attempt Delay"
    std::chrono::milliseconds attempt{10'000};  ///< one attempt's limit
};

struct connect_result {
    std::optional<boost::asio::ip::tcp::socket> socket;  ///< set on success
    dns::candidate used;                                 ///< the candidate that answered
    bool timed_out = false;  ///< on failure: at least one attempt ran out of time
    bool refused = false;    ///< on failure: at least one attempt was refused (nothing listens there)
    std::string error;       ///< on failure: what the last attempt said
};

/// Tries `candidates` in their order. Precondition: not empty.
[[nodiscard]] boost::asio::awaitable<connect_result> connect_first(boost::asio::any_io_executor executor,
                                                                   std::vector<dns::candidate> candidates,
                                                                   connect_timing timing = {});

}  // namespace fedgate::network
