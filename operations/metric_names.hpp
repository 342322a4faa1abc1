#pragma once
/// @file
/// Every metric fedgate exports, named once: operators write alerts and
/// dashboards against these names, and their label values are short stable
/// codes (never a sentence or an error message), so that neither changes with
/// the wording of a log line. The help texts are in metrics.cpp; the README
/// lists them.

#include <string_view>

namespace fedgate::operations::metric {

// counters
inline constexpr std::string_view streams_authenticated = "fedgate_streams_authenticated_total";
inline constexpr std::string_view bidi_streams = "fedgate_bidi_streams_total";
inline constexpr std::string_view stream_closes = "fedgate_stream_closes_total";
inline constexpr std::string_view stanzas = "fedgate_stanzas_total";
inline constexpr std::string_view stanza_bytes = "fedgate_stanza_bytes_total";
inline constexpr std::string_view refusals = "fedgate_refusals_total";
inline constexpr std::string_view bounces = "fedgate_bounces_total";
inline constexpr std::string_view bounces_undeliverable = "fedgate_bounces_undeliverable_total";
inline constexpr std::string_view error_stanzas_dropped = "fedgate_error_stanzas_dropped_total";
inline constexpr std::string_view stanzas_possibly_lost = "fedgate_stanzas_possibly_lost_total";
inline constexpr std::string_view stanzas_resent = "fedgate_stanzas_resent_total";
inline constexpr std::string_view bounced_after_stream_loss = "fedgate_stanzas_bounced_after_stream_loss_total";
inline constexpr std::string_view dialback_verifications = "fedgate_dialback_verifications_total";
inline constexpr std::string_view dns_resolutions = "fedgate_dns_resolutions_total";
inline constexpr std::string_view connections_refused = "fedgate_connections_refused_total";
inline constexpr std::string_view listen_overflows = "fedgate_listen_overflows_total";
inline constexpr std::string_view partner_failures = "fedgate_partner_failures_total";
inline constexpr std::string_view blocked = "fedgate_blocked_total";
inline constexpr std::string_view blocklist_reads = "fedgate_blocklist_reads_total";
inline constexpr std::string_view rate_limited = "fedgate_rate_limited_total";
inline constexpr std::string_view unlisted_domains_closed = "fedgate_unlisted_domains_closed_total";

// gauges
inline constexpr std::string_view build_info = "fedgate_build_info";
inline constexpr std::string_view streams = "fedgate_streams";
inline constexpr std::string_view queued_stanzas = "fedgate_queued_stanzas";
inline constexpr std::string_view unacknowledged_stanzas = "fedgate_unacknowledged_stanzas";
inline constexpr std::string_view store_up = "fedgate_store_up";
inline constexpr std::string_view blocklist_entries = "fedgate_blocklist_entries";
inline constexpr std::string_view unlisted_domains = "fedgate_unlisted_domains";
// the partner state (operations/partner_state.hpp)
inline constexpr std::string_view partner_up = "fedgate_partner_up";
inline constexpr std::string_view partner_last_success = "fedgate_partner_last_success_timestamp_seconds";
inline constexpr std::string_view partner_last_failure = "fedgate_partner_last_failure_timestamp_seconds";
inline constexpr std::string_view peer_certificate_expiry = "fedgate_peer_certificate_expiry_timestamp_seconds";

}  // namespace fedgate::operations::metric
