#pragma once
/// @file
/// The partner policy's vocabulary (policy/partner_policy.hpp), which the
/// sessions speak: named here once, so that negotiation code and its callers say
/// `negotiation::requirement` as before while the policy lives in a room of its
/// own that conf/ uses without the negotiation library.

#include "policy/partner.hpp"
#include "policy/partner_policy.hpp"

namespace fedgate::negotiation {

using policy::all_methods;
using policy::auth_method;
using policy::config_name;
using policy::describe;
using policy::display_name;
using policy::evaluate;
using policy::method_set;
using policy::negotiation_settings;
using policy::parse_requirement;
using policy::policy_evaluation;
using policy::requirement;
using policy::verdict;

}  // namespace fedgate::negotiation
