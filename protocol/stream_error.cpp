#include "protocol/stream_error.hpp"

#include <array>
#include <string>

namespace fedgate::protocol {
namespace {

constexpr std::array<std::string_view, 25> names = {
    "bad-format",          "bad-namespace-prefix",  "conflict",         "connection-timeout",
    "host-gone",           "host-unknown",          "improper-addressing", "internal-server-error",
    "invalid-from",        "invalid-namespace",     "invalid-xml",      "not-authorized",
    "not-well-formed",     "policy-violation",      "remote-connection-failed", "reset",
    "resource-constraint", "restricted-xml",        "see-other-host",   "system-shutdown",
    "undefined-condition", "unsupported-encoding",  "unsupported-feature", "unsupported-stanza-type",
    "unsupported-version",
};

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "xmpp.stream"; }
    std::string message(int value) const override
    {
        return std::string{wire_name(static_cast<stream_error>(value))};
    }
};

}  // namespace

std::error_category const& stream_error_category() noexcept
{
    static category const instance;
    return instance;
}

std::string_view wire_name(stream_error e) noexcept
{
    auto const i = static_cast<std::size_t>(e) - 1;
    return i < names.size() ? names[i] : "undefined-condition";
}

stream_error stream_error_from_wire(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name)
            return static_cast<stream_error>(i + 1);
    return stream_error::undefined_condition;
}

}  // namespace fedgate::protocol
