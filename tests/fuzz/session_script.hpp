#pragma once
/// @file
/// What the session fuzz targets share: their script of records (one byte says
/// what happens; for peer bytes, the next says how many follow), the check that
/// no action follows a close_stream, and a peer certificate whose verdict the
/// script chose.

#include "negotiation/session_types.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedgate::fuzz {

class script {
public:
    script(std::uint8_t const* data, std::size_t size, std::size_t at) : data_{data}, size_{size}, at_{at} {}

    /// The next record's op byte; nullopt at the end of the input.
    [[nodiscard]] std::optional<std::uint8_t> next_op()
    {
        if (at_ >= size_)
            return std::nullopt;
        return data_[at_++];
    }
    /// A peer-bytes record's data: a length byte, then as many bytes as remain up to it.
    [[nodiscard]] std::string_view peer_bytes()
    {
        std::size_t const length = at_ < size_ ? data_[at_++] : 0;
        auto const n = std::min(length, size_ - at_);
        std::string_view out{reinterpret_cast<char const*>(data_ + at_), n};
        at_ += n;
        return out;
    }

private:
    std::uint8_t const* data_;
    std::size_t size_;
    std::size_t at_;
};

/// A finding (abort) when `a` follows a close_stream; sets `closed` at one.
inline void check_order(negotiation::action const& a, bool& closed)
{
    if (closed)
        std::abort();
    if (std::holds_alternative<negotiation::close_stream>(a))
        closed = true;
}

/// A peer certificate valid for `names` when the script says it is trusted.
class scripted_certificate final : public negotiation::peer_certificate {
public:
    scripted_certificate(bool valid, std::vector<std::string> names) : valid_{valid}, names_{std::move(names)} {}
    negotiation::certificate_verdict check(std::string_view domain) const override
    {
        using negotiation::certificate_verdict;
        if (!valid_)
            return {certificate_verdict::status::untrusted, std::nullopt, "untrusted (fuzz)"};
        if (std::find(names_.begin(), names_.end(), domain) == names_.end())
            return {certificate_verdict::status::name_mismatch, std::nullopt, "another name (fuzz)"};
        return {certificate_verdict::status::valid, negotiation::identity_kind::dns_id, {}};
    }

private:
    bool valid_;
    std::vector<std::string> names_;
};

}  // namespace fedgate::fuzz
