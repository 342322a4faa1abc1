#pragma once
/// @file
/// Which way an error reply of ours goes (DESIGN "How a stanza travels",
/// bounces): to a local sender over the component link of the remote domain it
/// came from, to a remote sender over the outbound link of the (local, remote)
/// pair. Decided from the reply's addresses alone, before the reply itself is
/// moved anywhere: reading an address from an element that is moved in the same
/// call is what once sent every remote bounce to the pair ('', remote).

#include "negotiation/session_types.hpp"
#include "protocol/element.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace fedgate::routing {

/// To the internal server, from `pair.remote` (over its component link, or the
/// S2S link of the pair in s2s mode) for a user of `pair.local`.
struct bounce_to_internal {
    negotiation::domain_pair pair;
    friend bool operator==(bounce_to_internal const&, bounce_to_internal const&) = default;
};
/// To a remote sender, over the outbound link of `pair`.
struct bounce_to_remote {
    negotiation::domain_pair pair;
    friend bool operator==(bounce_to_remote const&, bounce_to_remote const&) = default;
};
/// Nowhere: an address is not a JID, or the reply is from no local domain (a
/// bug upstream); `why` says which, for the log.
struct bounce_nowhere {
    std::string why;
    friend bool operator==(bounce_nowhere const&, bounce_nowhere const&) = default;
};
using bounce_route = std::variant<bounce_to_internal, bounce_to_remote, bounce_nowhere>;

/// The way of `reply`; `is_local` tells whether a domain is one of ours.
[[nodiscard]] bounce_route route_of_bounce(protocol::element const& reply,
                                           std::function<bool(std::string_view)> const& is_local);

}  // namespace fedgate::routing
