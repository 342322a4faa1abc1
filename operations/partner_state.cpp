#include "operations/partner_state.hpp"

#include <algorithm>

namespace fedgate::operations {

namespace pf = partner_failure;

std::string_view label_of(partner_direction d) noexcept
{
    return d == partner_direction::inbound ? "in" : "out";
}

std::string_view label_of(federation_stage s) noexcept
{
    switch (s) {
    case federation_stage::dns: return "dns";
    case federation_stage::tcp: return "tcp";
    case federation_stage::tls: return "tls";
    case federation_stage::certificate: return "certificate";
    case federation_stage::authentication: return "authentication";
    case federation_stage::stream: return "stream";
    }
    return "stream";
}

namespace {

// dns::code_of()'s codes, spelt again here so that operations/ needs no dns/;
// tests/operations checks the two lists agree.
constexpr std::string_view dns_reasons[] = {"nxdomain",  "no_data",             "timeout",   "server_failure", "refused",
                                            "bad_reply", "service_unavailable", "cancelled", "failed",         pf::other};
constexpr std::string_view tcp_reasons[] = {pf::connection_refused, pf::connection_timeout, pf::unreachable, pf::other};
constexpr std::string_view tls_reasons[] = {pf::handshake_failed, pf::tls_not_offered, pf::tls_refused, pf::timeout,
                                            pf::transport_closed, pf::other};
constexpr std::string_view certificate_reasons[] = {pf::no_certificate, pf::untrusted,           pf::expired,
                                                    pf::not_yet_valid,  pf::name_mismatch,       pf::certificate_invalid,
                                                    pf::other};
constexpr std::string_view authentication_reasons[] = {
    pf::sasl_failed,       pf::dialback_invalid, pf::dialback_error, pf::no_common_method, pf::policy,
    pf::not_authenticated, pf::too_many_failures, pf::timeout,       pf::other};
constexpr std::string_view stream_reasons[] = {pf::timeout,         pf::peer_closed,           pf::transport_closed,
                                               pf::bad_input,       pf::stream_error_received, pf::host_unknown,
                                               pf::unknown_partner, pf::policy,                pf::other};

std::size_t index_of(federation_stage s)
{
    return static_cast<std::size_t>(s);
}

void clear_attempt(direction_state& d)
{
    d.stages = {};
    d.dns.reset();
    d.tcp.reset();
    d.tls.reset();
    d.certificate.reset();
    d.authentication.reset();
}

void succeed(direction_state& d, federation_stage s, wall_time at)
{
    auto& record = d.stages[index_of(s)];
    record = {stage_record::outcome::succeeded, at, {}, {}};
}

}  // namespace

std::span<std::string_view const> reasons_of(federation_stage s) noexcept
{
    switch (s) {
    case federation_stage::dns: return dns_reasons;
    case federation_stage::tcp: return tcp_reasons;
    case federation_stage::tls: return tls_reasons;
    case federation_stage::certificate: return certificate_reasons;
    case federation_stage::authentication: return authentication_reasons;
    case federation_stage::stream: return stream_reasons;
    }
    return stream_reasons;
}

std::string_view counted_reason(federation_stage s, std::string_view reason) noexcept
{
    auto const known = reasons_of(s);
    auto const it = std::find(known.begin(), known.end(), reason);
    return it != known.end() ? *it : pf::other;
}

bool expires_within(wall_time not_after, wall_time now, std::chrono::seconds within) noexcept
{
    return not_after <= now + within;
}

partner_state::partner_state(std::vector<known_partner> partners)
{
    set_partners(std::move(partners));
}

void partner_state::set_partners(std::vector<known_partner> partners)
{
    std::map<std::string, partner_state_row, std::less<>> rows;
    primary_of_.clear();
    for (auto& p : partners) {
        auto node = rows_.extract(p.domain);
        auto& row = node.empty() ? rows[p.domain] : rows.insert(std::move(node)).position->second;
        if (row.partner.empty()) {
            row.partner = p.domain;
            row.inbound.direction = partner_direction::inbound;
            row.outbound.direction = partner_direction::outbound;
        }
        primary_of_[p.domain] = p.domain;
        for (auto& extra : p.additional_domains)
            primary_of_.emplace(std::move(extra), p.domain);
    }
    rows_ = std::move(rows);
}

std::string const* partner_state::partner_of(std::string_view domain) const
{
    auto it = primary_of_.find(domain);
    return it == primary_of_.end() ? nullptr : &it->second;
}

partner_state_row* partner_state::find_row(std::string_view domain)
{
    auto const* primary = partner_of(domain);
    if (primary == nullptr)
        return nullptr;
    auto it = rows_.find(*primary);
    return it == rows_.end() ? nullptr : &it->second;
}

direction_state* partner_state::find(std::string_view domain, partner_direction d)
{
    auto* row = find_row(domain);
    if (row == nullptr)
        return nullptr;
    return d == partner_direction::inbound ? &row->inbound : &row->outbound;
}

void partner_state::attempt_started(std::string_view domain, partner_direction d, wall_time at)
{
    if (auto* s = find(domain, d)) {
        clear_attempt(*s);
        s->attempt_started = at;
    }
}

void partner_state::stage_succeeded(std::string_view domain, partner_direction d, federation_stage stage, wall_time at)
{
    if (auto* s = find(domain, d))
        succeed(*s, stage, at);
}

void partner_state::stage_failed(std::string_view domain, partner_direction d, federation_stage stage,
                                 std::string_view reason, std::string advice, wall_time at)
{
    auto* s = find(domain, d);
    if (s == nullptr)
        return;
    s->stages[index_of(stage)] = {stage_record::outcome::failed, at, std::string{reason}, advice};
    s->last_failure = failure_record{at, stage, std::string{reason}, std::move(advice)};
    ++s->failures[{stage, std::string{counted_reason(stage, reason)}}];
}

void partner_state::resolved(std::string_view domain, dns_facts facts, wall_time at)
{
    if (auto* s = find(domain, partner_direction::outbound)) {
        s->dns = std::move(facts);
        succeed(*s, federation_stage::dns, at);
    }
}

void partner_state::connected(std::string_view domain, partner_direction d, tcp_facts facts, wall_time at)
{
    if (auto* s = find(domain, d)) {
        s->tcp = std::move(facts);
        succeed(*s, federation_stage::tcp, at);
    }
}

void partner_state::tls_up(std::string_view domain, partner_direction d, tls_facts facts, wall_time at)
{
    if (auto* s = find(domain, d)) {
        s->tls = std::move(facts);
        succeed(*s, federation_stage::tls, at);
    }
}

void partner_state::certificate_checked(std::string_view domain, partner_direction d, certificate_check_facts facts,
                                        std::string advice, wall_time at)
{
    auto* s = find(domain, d);
    if (s == nullptr)
        return;
    auto const verdict = facts.verdict;
    s->certificate = std::move(facts);
    if (verdict == "valid")
        succeed(*s, federation_stage::certificate, at);
    else
        s->stages[index_of(federation_stage::certificate)] = {stage_record::outcome::failed, at, verdict,
                                                              std::move(advice)};
}

void partner_state::stream_up(std::string_view domain, partner_direction d, std::string_view method, wall_time at)
{
    auto* s = find(domain, d);
    if (s == nullptr)
        return;
    s->authentication = authentication_facts{std::string{method}, "success"};
    succeed(*s, federation_stage::authentication, at);
    succeed(*s, federation_stage::stream, at);
    if (s->streams_up++ == 0) {
        s->up = true;
        s->since = at;
    }
    s->method = method;
    s->last_success = success_record{at, std::string{method}};
}

void partner_state::stream_down(std::string_view domain, partner_direction d, wall_time at)
{
    auto* s = find(domain, d);
    if (s == nullptr || s->streams_up == 0)
        return;
    if (--s->streams_up == 0) {
        s->up = false;
        s->since = at;
        s->method.clear();
    }
}

certificate_news partner_state::certificate_seen(std::string_view domain, partner_direction d,
                                                 negotiation::certificate_facts const& facts, wall_time at)
{
    auto* row = find_row(domain);
    if (row == nullptr)
        return certificate_news::known;
    auto& certs = row->certificates;
    // Newest first: the partner's current certificate is certs.front().
    auto const news = certs.empty()                                    ? certificate_news::first
                      : certs.front().facts.fingerprint == facts.fingerprint ? certificate_news::known
                                                                             : certificate_news::changed;
    auto it = std::find_if(certs.begin(), certs.end(),
                           [&](certificate_record const& c) { return c.facts.fingerprint == facts.fingerprint; });
    certificate_record record{facts, at, at, d};
    if (it != certs.end()) {
        record.first_seen = it->first_seen;
        certs.erase(it);
    }
    certs.insert(certs.begin(), std::move(record));
    if (certs.size() > certificates_kept)
        certs.resize(certificates_kept);
    return news;
}

std::vector<expiry_warning> partner_state::expiring(wall_time now, std::chrono::seconds within) const
{
    std::vector<expiry_warning> out;
    for (auto const& [domain, row] : rows_)
        if (!row.certificates.empty() && expires_within(row.certificates.front().facts.not_after, now, within))
            out.push_back({domain, row.certificates.front().facts});
    return out;
}

std::vector<partner_state_row> partner_state::snapshot() const
{
    std::vector<partner_state_row> out;
    out.reserve(rows_.size());
    for (auto const& [domain, row] : rows_)
        out.push_back(row);
    return out;
}

std::optional<partner_state_row> partner_state::snapshot(std::string_view domain) const
{
    auto const* primary = partner_of(domain);
    if (primary == nullptr)
        return std::nullopt;
    auto it = rows_.find(*primary);
    if (it == rows_.end())
        return std::nullopt;
    return it->second;
}

}  // namespace fedgate::operations
