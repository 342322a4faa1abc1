#pragma once
/// @file
/// Where the internal server is: [internal] host and port as connection
/// candidates, for its component links and (s2s mode) its S2S links alike.

#include "conf/config.hpp"
#include "dns/records.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <vector>

namespace fedgate::routing {

struct internal_server_address {
    std::vector<dns::candidate> candidates;  ///< empty when `error` says why
    boost::system::error_code error;
};

/// The addresses of [internal] host, by the system's resolver: the internal
/// server is named by the operator (an address, or a name in /etc/hosts or the
/// site's DNS), never looked up by SRV.
[[nodiscard]] boost::asio::awaitable<internal_server_address> find_internal_server(boost::asio::any_io_executor executor,
                                                                                   conf::internal_settings const& in);

}  // namespace fedgate::routing
