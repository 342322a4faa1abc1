#include "dns/error.hpp"

#include <array>
#include <string>

namespace fedgate::dns {
namespace {

/// Each error's metric code and message, in the enum's order (from nxdomain = 1).
struct error_text {
    error e;
    std::string_view code;
    std::string_view message;
};
constexpr std::array<error_text, 9> texts{{
    {error::nxdomain, "nxdomain", "no such domain (NXDOMAIN)"},
    {error::no_data, "no_data", "no records of that type"},
    {error::timeout, "timeout", "no DNS server answered in time"},
    {error::server_failure, "server_failure", "DNS server failure (SERVFAIL)"},
    {error::refused, "refused", "DNS query refused"},
    {error::bad_reply, "bad_reply", "malformed DNS reply"},
    {error::service_unavailable, "service_unavailable",
     "the domain says it offers no XMPP service (SRV target \".\")"},
    {error::cancelled, "cancelled", "DNS query cancelled"},
    {error::failed, "failed", "DNS lookup failed"},
}};

/// The entry of `value`; error::failed for a value outside the enum.
error_text const& text_of(int value) noexcept
{
    for (auto const& t : texts)
        if (static_cast<int>(t.e) == value)
            return t;
    return texts.back();
}

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "dns"; }
    std::string message(int value) const override { return std::string{text_of(value).message}; }
};

}  // namespace

std::string_view code_of(std::error_code ec) noexcept
{
    return ec.category() == error_category() ? text_of(ec.value()).code : texts.back().code;
}

std::error_category const& error_category() noexcept
{
    static category const instance;
    return instance;
}

bool is_negative_answer(std::error_code ec) noexcept
{
    return ec == make_error_code(error::nxdomain) || ec == make_error_code(error::no_data);
}

}  // namespace fedgate::dns
