// [internal]: how fedgate reaches the internal XMPP server, in one of two modes
// (shared/DESIGN.md "Internal modes"): XEP-0114 components, or S2S with fedgate
// as every remote domain. Each mode's settings are refused in the other, so that
// an operator who switches modes learns what no longer applies.
#include "conf/loader.hpp"
#include "conf/socket_address.hpp"

namespace fedgate::conf::detail {
namespace {

/// The settings only s2s mode reads.
constexpr std::string_view s2s_only_keys[] = {"listen", "allowed_addresses", "tls", "sasl", "dialback"};

/// Whether a listener on `a` and one on `b` would take the same connections (or
/// fail to bind together): the same port, and the same address or a wildcard.
bool overlap(socket_address const& a, socket_address const& b)
{
    auto const wildcard = [](socket_address const& s) { return s.host == "0.0.0.0" || s.host == "::"; };
    return a.port == b.port && (a.host == b.host || wildcard(a) || wildcard(b));
}

}  // namespace

void loader::read_internal(toml::table const* t)
{
    if (!t) {
        out_.error(0, "the [internal] section is missing; add it with mode = \"component\", host, port and "
                      "secret_file (the internal server's component secret)");
        return;
    }
    table_reader r{*t, schema_of("internal"), out_};
    auto& in = cfg_.internal;
    in.mode_line = r.line_of("mode");
    if (auto mode = r.choice("mode", {"component", "s2s"}))
        in.mode = *mode == 0 ? internal_settings::link_mode::component : internal_settings::link_mode::s2s;
    else if (t->contains("mode"))
        in.mode_line = 0;  // refused already: no second error about the mode from what depends on it
    bool const s2s = in.mode == internal_settings::link_mode::s2s;
    if (auto host = r.string("host")) {
        if (host->value.empty())
            out_.error(host->line, "'host' in [internal] is empty; name the internal XMPP server's address");
        else
            in.host = host->value;
    }
    in.port = static_cast<std::uint16_t>(r.integer("port", 1, 65535).value_or(s2s ? 5269 : in.port));
    if (r.require("secret_file", s2s ? "secret_file = \"/etc/fedgate/internal-dialback.secret\" (the secret of "
                                       "the dialback keys fedgate gives the internal server)"
                                     : "secret_file = \"/etc/fedgate/component.secret\""))
        in.secret_file = read_file(r, "secret_file");
    if (s2s) {
        read_internal_s2s(r, *t);
    } else {
        for (auto key : s2s_only_keys)
            if (t->contains(key))
                out_.error(r.line_of(key), "'" + std::string{key} + "' in [internal] is a setting of mode = \"s2s\"; "
                                           "remove it, or set mode = \"s2s\"");
    }
    r.finish();
}

void loader::read_internal_s2s(table_reader& r, toml::table const& t)
{
    auto& in = cfg_.internal;
    if (r.require("listen", "listen = [\"10.0.0.2:5269\"]: an address of fedgate's own, which the internal "
                            "server's DNS gives for the remote domains"))
        in.listen = read_addresses(r, "listen", {}, 5269);
    // The public listeners must never take the internal server's streams, nor the
    // internal listener a partner's: they are told apart by where they arrive.
    auto const& g = cfg_.gateway;
    for (auto const& mine : in.listen) {
        for (auto const* list : {&g.s2s_listen, &g.direct_tls_listen}) {
            for (auto const& public_one : *list) {
                if (!overlap(mine, public_one))
                    continue;
                out_.error(r.line_of("listen"),
                           "'listen' in [internal]: " + to_string(mine) + " would share the public listener " +
                               to_string(public_one) + " of [gateway] " +
                               (list == &g.s2s_listen ? "s2s_listen" : "direct_tls_listen") +
                               "; the internal server's streams need a listener of their own: give [gateway] its "
                               "public addresses instead of a wildcard, or [internal] another port");
            }
        }
    }
    if (auto ranges = r.strings("allowed_addresses")) {
        for (auto const& v : *ranges) {
            auto parsed = parse_address_range(v.value);
            if (auto const* why = std::get_if<std::string>(&parsed))
                out_.error(v.line, "'allowed_addresses' in [internal]: \"" + v.value + "\" " + *why);
            else
                in.allowed_addresses.push_back(std::get<address_range>(parsed));
        }
        if (ranges->empty())
            out_.error(r.line_of("allowed_addresses"), "'allowed_addresses' in [internal] is empty, so no internal "
                                                       "server could connect; name its addresses");
    } else if (auto host = parse_address_range(in.host); auto const* address = std::get_if<address_range>(&host)) {
        in.allowed_addresses.push_back(*address);  // an address, not a name: the internal server's own
    } else {
        out_.error(r.line_of("host"), "'host' in [internal] is the name \"" + in.host + "\"; in s2s mode, also name "
                                      "the addresses the internal server connects from: allowed_addresses = "
                                      "[\"10.0.0.5\"] (a network such as \"10.0.0.0/24\" too)");
    }
    if (read_negotiation(r, t, in.negotiation))
        in.policy = judge_negotiation(r, in.negotiation, "[internal]: ");
}

}  // namespace fedgate::conf::detail
