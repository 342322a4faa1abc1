#include "dns/reply_ttl.hpp"

#include <algorithm>

namespace fedgate::dns {
namespace {

constexpr std::uint16_t type_soa = 6;

class cursor {
public:
    explicit cursor(std::span<unsigned char const> data) : data_{data} {}

    bool ok() const noexcept { return ok_; }
    std::size_t at() const noexcept { return at_; }

    std::uint16_t u16()
    {
        if (!need(2))
            return 0;
        std::uint16_t v = static_cast<std::uint16_t>((data_[at_] << 8) | data_[at_ + 1]);
        at_ += 2;
        return v;
    }
    std::uint32_t u32()
    {
        std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    void skip(std::size_t n)
    {
        if (need(n))
            at_ += n;
    }
    /// Skips a possibly compressed name (RFC 1035 §4.1.4): labels up to a zero
    /// byte, or up to a two-byte pointer, which ends the name in place.
    void skip_name()
    {
        while (ok_ && need(1)) {
            unsigned char const length = data_[at_];
            if (length == 0) {
                ++at_;
                return;
            }
            if ((length & 0xc0) == 0xc0) {
                skip(2);
                return;
            }
            if ((length & 0xc0) != 0) {
                ok_ = false;  // reserved label types
                return;
            }
            skip(1u + length);
        }
    }

private:
    bool need(std::size_t n)
    {
        if (at_ + n > data_.size())
            ok_ = false;
        return ok_;
    }
    std::span<unsigned char const> data_;
    std::size_t at_ = 0;
    bool ok_ = true;
};

struct record_header {
    std::uint16_t type;
    std::uint32_t ttl;
    std::uint16_t length;
};

record_header read_record(cursor& c)
{
    c.skip_name();
    record_header h{};
    h.type = c.u16();
    c.u16();  // class
    h.ttl = c.u32();
    h.length = c.u16();
    return h;
}

struct section_counts {
    std::uint16_t questions, answers, authority;
};

section_counts skip_header_and_questions(cursor& c)
{
    c.skip(4);  // id, flags
    section_counts n{c.u16(), c.u16(), c.u16()};
    c.u16();  // additional
    for (std::uint16_t i = 0; i < n.questions && c.ok(); ++i) {
        c.skip_name();
        c.skip(4);
    }
    return n;
}

}  // namespace

std::optional<std::uint32_t> answer_ttl(std::span<unsigned char const> reply, std::uint16_t type)
{
    cursor c{reply};
    auto n = skip_header_and_questions(c);
    std::optional<std::uint32_t> ttl;
    for (std::uint16_t i = 0; i < n.answers && c.ok(); ++i) {
        auto h = read_record(c);
        c.skip(h.length);
        if (c.ok() && h.type == type)
            ttl = std::min(ttl.value_or(h.ttl), h.ttl);
    }
    return c.ok() ? ttl : std::nullopt;
}

std::optional<std::uint32_t> negative_ttl(std::span<unsigned char const> reply)
{
    cursor c{reply};
    auto n = skip_header_and_questions(c);
    for (std::uint16_t i = 0; i < n.answers && c.ok(); ++i)
        c.skip(read_record(c).length);
    for (std::uint16_t i = 0; i < n.authority && c.ok(); ++i) {
        auto h = read_record(c);
        if (!c.ok())
            break;
        if (h.type != type_soa) {
            c.skip(h.length);
            continue;
        }
        std::size_t const end = c.at() + h.length;
        c.skip_name();  // MNAME
        c.skip_name();  // RNAME
        c.skip(16);     // SERIAL REFRESH RETRY EXPIRE
        std::uint32_t const minimum = c.u32();
        if (!c.ok() || c.at() != end)
            return std::nullopt;
        return std::min(h.ttl, minimum);
    }
    return std::nullopt;
}

}  // namespace fedgate::dns
