#pragma once
/// @file
/// What a remote domain's servers may send us a second (issue 23), as the
/// configuration gives it; enforced with policy/token_bucket.hpp in routing/.

namespace fedgate::policy {

/// A remote domain's rate limit ([[partner]] rate_limit_stanzas, rate_limit_bytes):
/// per second, 0 for none. Its burst is two seconds' worth (and, for bytes, at
/// least one stanza of the largest size allowed).
struct rate_limit {
    double stanzas_per_second = 0;
    double bytes_per_second = 0;
    [[nodiscard]] bool any() const noexcept { return stanzas_per_second > 0 || bytes_per_second > 0; }
    friend bool operator==(rate_limit const&, rate_limit const&) = default;
};

}  // namespace fedgate::policy
