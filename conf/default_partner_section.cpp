// [default_partner]: the terms of the remote domains nobody listed (open
// federation, issue 23). Its keys are a [[partner]]'s without the domains, and
// its defaults are the careful ones: public_unverified (a stranger reaches a
// local user only once invited) and a rate limit.
#include "conf/loader.hpp"

namespace fedgate::conf::detail {

namespace {

// Per unlisted domain: a busy room's traffic passes, a flood does not. The
// bytes are half of the default max_stanza_bytes, so that one stanza of the
// largest size holds the domain no longer than two seconds.
constexpr double default_stanzas_per_second = 20;
constexpr double default_bytes_per_second = 128 * 1024;

}  // namespace

void loader::read_default_partner(toml::table const* t)
{
    if (!t)
        return;
    table_reader r{*t, schema_of("default_partner"), out_};
    default_partner_settings d;
    d.line = r.line();
    d.terms.line = d.line;
    d.terms.type = partner_type::public_unverified;
    d.terms.rate_limit = {.stanzas_per_second = default_stanzas_per_second,
                          .bytes_per_second = default_bytes_per_second};
    bool complete = read_partner_terms(r, *t, d.terms);
    if (auto most = r.integer("max_domains", 1, 1000000, "unlisted domains with streams at once"))
        d.max_domains = static_cast<std::size_t>(*most);
    else
        complete = complete && !t->contains("max_domains");
    r.finish();
    // The section missing is reported already; no second error about its mode.
    if (cfg_.internal.mode != internal_settings::link_mode::s2s && cfg_.internal.mode_line != 0) {
        out_.error(d.line, "[default_partner] needs [internal] mode = \"s2s\": in component mode the internal server "
                           "reaches a remote domain only through a component of that domain, and there is none for "
                           "a domain nobody listed. Set mode = \"s2s\" in [internal] (fedgate.toml(5), \"Internal "
                           "modes\"), or remove [default_partner]");
        return;
    }
    if (!complete)
        return;
    d.terms.policy = judge_negotiation(r, d.terms.negotiation, "[default_partner]: ");
    cfg_.default_partner = std::move(d);
}

}  // namespace fedgate::conf::detail
