#include "dns/error.hpp"

#include <string>

namespace fedgate::dns {
namespace {

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "dns"; }
    std::string message(int value) const override
    {
        switch (static_cast<error>(value)) {
        case error::nxdomain:
            return "no such domain (NXDOMAIN)";
        case error::no_data:
            return "no records of that type";
        case error::timeout:
            return "no DNS server answered in time";
        case error::server_failure:
            return "DNS server failure (SERVFAIL)";
        case error::refused:
            return "DNS query refused";
        case error::bad_reply:
            return "malformed DNS reply";
        case error::service_unavailable:
            return "the domain says it offers no XMPP service (SRV target \".\")";
        case error::cancelled:
            return "DNS query cancelled";
        case error::failed:
            break;
        }
        return "DNS lookup failed";
    }
};

}  // namespace

std::string_view code_of(std::error_code ec) noexcept
{
    if (ec.category() != error_category())
        return "failed";
    switch (static_cast<error>(ec.value())) {
    case error::nxdomain:
        return "nxdomain";
    case error::no_data:
        return "no_data";
    case error::timeout:
        return "timeout";
    case error::server_failure:
        return "server_failure";
    case error::refused:
        return "refused";
    case error::bad_reply:
        return "bad_reply";
    case error::service_unavailable:
        return "service_unavailable";
    case error::cancelled:
        return "cancelled";
    case error::failed:
        break;
    }
    return "failed";
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
