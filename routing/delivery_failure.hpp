#pragma once
/// @file
/// How a failed attempt to reach a partner turns into what happens to the
/// stanzas waiting for it: hold and retry (the partner may be down for a moment)
/// or bounce now (it will not get better by trying again), and with which stanza
/// error condition (RFC 6120 §8.3.3, XEP-0220 §2.1.1).

#include "dns/error.hpp"
#include "negotiation/session_types.hpp"
#include "protocol/stanza_error.hpp"

#include <string>

namespace fedgate::routing {

struct delivery_failure {
    protocol::stanza_condition condition = protocol::stanza_condition::remote_server_not_found;
    bool retry = false;  ///< hold the queue and try again, bouncing only at the deadline
    std::string text;    ///< for the bounce's <text/> and the log line
};

/// A resolution that produced no candidate.
[[nodiscard]] delivery_failure classify(dns::error e);

/// No candidate address accepted a connection (refused, unreachable, timed out).
[[nodiscard]] delivery_failure connection_failed(bool timed_out);

/// An outbound stream ended before it was established.
[[nodiscard]] delivery_failure classify(negotiation::close_reason reason, std::string const& detail);

}  // namespace fedgate::routing
