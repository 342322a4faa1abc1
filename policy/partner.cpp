#include "policy/partner.hpp"

namespace fedgate::policy {

std::string_view config_name(partner_type t) noexcept
{
    switch (t) {
    case partner_type::federated:
        return "federated";
    case partner_type::public_verified:
        return "public_verified";
    case partner_type::public_unverified:
        return "public_unverified";
    }
    return "?";
}

}  // namespace fedgate::policy
