#include "operations/metrics.hpp"

#include "operations/metric_names.hpp"

#include <array>
#include <charconv>
#include <sstream>

namespace fedgate::operations {

namespace {

struct help_entry {
    std::string_view name;
    std::string_view help;
};

constexpr help_entry helps[] = {
    {metric::build_info, "Always 1; its labels say which fedgate runs, on which OpenSSL and expat."},
    {metric::streams, "Streams open now, by direction (in, out, component) and state."},
    {metric::streams_authenticated, "S2S pairs authenticated, by direction and method."},
    {metric::bidi_streams, "Streams that carry the stanzas of both directions of a pair (XEP-0288), by who opened them (out: fedgate, in: the partner)."},
    {metric::stream_closes, "Streams closed, by direction and reason (negotiation failures included)."},
    {metric::stanzas, "Stanzas relayed, by direction (in: from a partner, out: to a partner) and partner."},
    {metric::stanza_bytes, "Bytes of relayed stanzas as written, by direction and partner."},
    {metric::refusals, "Stanzas refused by the contact rules, by partner and reason."},
    {metric::bounces, "Error replies sent for stanzas that could not be delivered, by condition."},
    {metric::bounces_undeliverable, "Error replies that could not be delivered either, by reason."},
    {metric::error_stanzas_dropped, "Error stanzas that could not be delivered and may not be bounced (RFC 6120 8.3.1)."},
    {metric::stanzas_possibly_lost, "Stanzas written but unconfirmed when their stream ended for good: to the internal server (link dropped), to a partner (shutdown)."},
    {metric::stanzas_resent, "Stanzas written again after a stream ended without confirming them, by partner and side (outbound: a partner's stream, XEP-0198 acks; internal: a component link, ping answers)."},
    {metric::bounced_after_stream_loss, "Stanzas a stream ended without confirming, bounced when no later stream delivered them in time, by partner and side (outbound, internal)."},
    {metric::dialback_verifications, "Dialback keys checked with an authoritative server, by result."},
    {metric::dns_resolutions, "Partner domains resolved for outbound streams, by result."},
    {metric::connections_refused, "Inbound connections refused by the connection limits."},
    {metric::listen_overflows, "Connection attempts the kernel dropped on a full listen queue since fedgate started (ListenOverflows of the network namespace: another program's count too, outside a namespace of fedgate's own)."},
    {metric::queued_stanzas, "Stanzas held for a stream that is not up, by side (outbound, internal)."},
    {metric::store_up, "1 while the relationship store reaches its database (always for SQLite); 0 while a PostgreSQL store has lost it: invitations wait, then bounce."},
    {metric::partner_failures, "Federation attempts with a partner that failed, by partner, direction, stage (dns, tcp, tls, certificate, authentication, stream) and reason code."},
    {metric::partner_up, "1 while at least one authenticated stream with the partner is up in that direction (in, out), else 0."},
    {metric::partner_last_success, "When a stream with the partner last authenticated in that direction (Unix time); 0 never since start."},
    {metric::partner_last_failure, "When an attempt with the partner last failed in that direction (Unix time); 0 never since start."},
    {metric::peer_certificate_expiry, "When the certificate the partner presented last expires (Unix time); 0 before it presented one."},
    {metric::blocked, "Streams and stanzas refused because their domain is on the [blocklist] file, by direction (in: streams ended, stanzas on them refused; out: stanzas bounced with not-allowed)."},
    {metric::blocklist_reads, "Reads of the [blocklist] file, by result (ok, error: the previous list stays)."},
    {metric::blocklist_entries, "Entries of the blocklist in use, by kind (domain, wildcard)."},
    {metric::rate_limited, "Stanzas over a rate limit, by partner (* for the unlisted domains), limit (stanzas, bytes) and action (slowed: the partner's streams stop reading; refused: bounced with policy-violation)."},
    {metric::unlisted_domains, "Unlisted domains ([default_partner]) with a stream up now; at most [default_partner] max_domains."},
    {metric::unlisted_domains_closed, "Times the streams of an unlisted domain were closed to make room for another ([default_partner] max_domains)."},
    {metric::unacknowledged_stanzas, "Stanzas written and not yet confirmed, by side (internal: by a ping; outbound: by a XEP-0198 ack)."},
};

std::string escape(std::string_view value)
{
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string_view metric_help(std::string_view name) noexcept
{
    for (auto const& h : helps)
        if (h.name == name)
            return h.help;
    return "fedgate metric.";
}

std::string render_labels(metric_labels const& labels)
{
    if (labels.empty())
        return {};
    std::string out = "{";
    for (auto const& [k, v] : labels)
        out += (out.size() > 1 ? "," : "") + k + "=\"" + escape(v) + "\"";
    return out + "}";
}

void metrics::count(std::string_view name, metric_labels const& labels, std::uint64_t n)
{
    slot(name, labels) += n;
}

std::uint64_t& metrics::slot(std::string_view name, metric_labels const& labels)
{
    auto named = counters_.find(name);
    if (named == counters_.end())
        named = counters_.emplace(std::string{name}, std::map<std::string, std::uint64_t>{}).first;
    return named->second[render_labels(labels)];  // std::map: the node never moves
}

std::uint64_t metrics::total(std::string_view name) const
{
    std::uint64_t sum = 0;
    if (auto named = counters_.find(name); named != counters_.end())
        for (auto const& [labels, value] : named->second)
            sum += value;
    return sum;
}

std::string metrics::render() const
{
    std::ostringstream out;
    for (auto const& [name, values] : counters_) {
        out << "# HELP " << name << " " << metric_help(name) << "\n# TYPE " << name << " counter\n";
        for (auto const& [labels, value] : values)
            out << name << labels << " " << value << "\n";
    }
    std::vector<sample> gauges;
    for (auto const& source : sources_)
        source(gauges);
    std::map<std::string_view, std::vector<sample const*>> by_name;
    for (auto const& g : gauges)
        by_name[g.name].push_back(&g);
    for (auto const& [name, samples] : by_name) {
        out << "# HELP " << name << " " << metric_help(name) << "\n# TYPE " << name << " gauge\n";
        for (auto const* s : samples) {
            std::array<char, 32> number{};
            auto end = std::to_chars(number.data(), number.data() + number.size(), s->value).ptr;
            out << name << render_labels(s->labels) << " " << std::string_view{number.data(), end} << "\n";
        }
    }
    return out.str();
}

}  // namespace fedgate::operations
