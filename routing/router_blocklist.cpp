// The operator's blocklist in the running gateway (router.hpp): read again when
// its file changed, and applied to the streams already up, so that blocking a
// domain ends its federation now, not at its next connection.
#include "routing/router.hpp"

#include "operations/metric_names.hpp"
#include "routing/outbound_link.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;
namespace ng = fedgate::negotiation;

policy::block_entry const* router::blocked(std::string const& remote, bool listed) const
{
    if (!blocklist_ || blocklist_->empty())
        return nullptr;
    return blocklist_->match(remote, listed);
}

policy::block_entry const* router::blocked(std::string const& remote) const
{
    if (!blocklist_ || blocklist_->empty())
        return nullptr;
    return blocked(remote, rt_->domains.find_listed_partner(remote) != nullptr);
}

std::optional<std::string> router::why_blocked(std::string const& remote, bool listed) const
{
    if (auto const* entry = blocked(remote, listed))
        return policy::blocked_text(remote, *entry);
    return std::nullopt;
}

std::optional<std::string> router::why_blocked(std::string const& remote) const
{
    if (auto const* entry = blocked(remote))
        return policy::blocked_text(remote, *entry);
    return std::nullopt;
}

void router::use_blocklist(std::shared_ptr<policy::blocklist const> next, file_stamp stamp)
{
    blocklist_ = std::move(next);
    blocklist_stamp_ = stamp;
    if (!blocklist_ || blocklist_->empty())
        return;
    for (auto* map : {&links_, &verifiers_})
        for (auto& [pair, link] : *map)
            if (auto const text = why_blocked(pair.remote); text && !link->stopped()) {
                spdlog::warn("stream {} -> {} stopped: {}", pair.local, pair.remote, *text);
                // What it held is refused as a stanza sent now would be.
                metrics_.count(metric::blocked, {{"direction", "out"}}, link->queued());
                link->stop(protocol::stream_error::policy_violation, *text, protocol::stanza_condition::not_allowed);
            }
    for (auto& [raw, in] : inbound_)
        for (auto const& pair : in.authenticated)
            if (auto const text = why_blocked(pair.remote)) {
                in.c->close(protocol::stream_error::policy_violation, ng::close_reason::blocked, *text);
                break;
            }
}

bool router::close_if_blocked(connection& source, std::string const& remote)
{
    // Its session judged its header by the list of the moment it was accepted;
    // the file may have changed since.
    auto const text = why_blocked(remote);
    if (text)
        source.close(protocol::stream_error::policy_violation, ng::close_reason::blocked, *text);
    return text.has_value();
}

bool router::refused_as_blocked(ng::route_stanza const& routed, bool listed, connection& source)
{
    // A closed stream is read until the peer's </stream:stream> (or a grace
    // period): what it still sends does not get in.
    auto const text = why_blocked(routed.pair.remote, listed);
    if (!text)
        return false;
    metrics_.count(metric::blocked, {{"direction", "in"}});
    log_quietly(spdlog::level::info, "refused: " + *text, 1,
                fmt::format("{} stanza from {} to {} refused: {}", source.id(), routed.stanza.from(),
                            routed.stanza.to(), *text));
    return true;
}

void router::refresh_blocklist(clock::time_point now)
{
    auto const& settings = rt_->cfg.blocklist;
    if (settings.file.empty() || settings.refresh.count() == 0 || now < next_blocklist_check_)
        return;
    next_blocklist_check_ = now + settings.refresh;
    // Stamped before the read: a write that ends during it is read next time.
    auto const stamp = stamp_of(settings.file.path);
    if (stamp == blocklist_stamp_)
        return;
    auto loaded = conf::read_blocklist(settings.file.path);
    for (auto const& finding : loaded.findings)
        if (finding.level == conf::diagnostic::severity::warning)
            spdlog::warn("blocklist {}", finding.format());
    if (!loaded.list) {
        // The last good list stays: a typo must not open the door to every
        // domain it held.
        for (auto const& finding : loaded.findings)
            if (finding.level == conf::diagnostic::severity::error)
                spdlog::error("blocklist not read again, the previous one stays: {}", finding.format());
        metrics_.count(metric::blocklist_reads, {{"result", "error"}});
        blocklist_stamp_ = stamp;  // said once per change, not at every refresh
        return;
    }
    spdlog::info("blocklist {} read again: {} domains, {} wildcards", settings.file.path.string(),
                 loaded.list->exact_count(), loaded.list->suffix_count());
    metrics_.count(metric::blocklist_reads, {{"result", "ok"}});
    use_blocklist(std::make_shared<policy::blocklist const>(std::move(*loaded.list)), stamp);
}

}  // namespace fedgate::routing
