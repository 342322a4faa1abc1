#pragma once
/// @file
/// The partner model shared by conf/ (which reads it), negotiation/ (which
/// authenticates pairs) and contacts/ (which applies the partner types' contact
/// rules): the partner types of seed 000 and a (local, remote) domain pair.

#include <cstdint>
#include <string>
#include <string_view>

namespace fedgate::policy {

/// What each partner type lets remote contacts do to local users (seed 000, step 10).
enum class partner_type : std::uint8_t { federated, public_verified, public_unverified };

/// The configuration word for a partner type: "federated", "public_verified", ...
[[nodiscard]] std::string_view config_name(partner_type t) noexcept;

/// One direction of federation between a local domain and a remote one. On an
/// inbound stream the remote domain is the stanzas' `from`, on an outbound one
/// their `to`. Authorisation is per pair, never per set of domains.
struct domain_pair {
    std::string local;
    std::string remote;
    friend bool operator==(domain_pair const&, domain_pair const&) = default;
    friend auto operator<=>(domain_pair const&, domain_pair const&) = default;
};

}  // namespace fedgate::policy
