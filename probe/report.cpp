#include "probe/report.hpp"

namespace fedgate::probe {

std::string_view name_of(stage s) noexcept
{
    switch (s) {
    case stage::dns: return "dns";
    case stage::tcp: return "tcp";
    case stage::tls: return "tls";
    case stage::certificate: return "certificate";
    case stage::features: return "features";
    case stage::authentication: return "authentication";
    }
    return "dns";
}

std::string_view name_of(outcome o) noexcept
{
    switch (o) {
    case outcome::ok: return "ok";
    case outcome::note: return "note";
    case outcome::warning: return "warning";
    case outcome::failed: return "failed";
    case outcome::not_checked: return "not-checked";
    }
    return "ok";
}

}  // namespace fedgate::probe
