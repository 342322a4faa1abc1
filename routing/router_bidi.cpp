// The router's side of XEP-0288 (router.hpp): a partner's inbound stream that
// asked for bidi and authenticated a pair is lent to the outbound link of that
// pair, which then writes our stanzas on it instead of opening a stream of its
// own. The partner's stanzas on our own bidi streams come back through
// link_owner::from_partner.
#include "routing/outbound_link.hpp"
#include "routing/router.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace ng = fedgate::negotiation;

void router::lend(connection& source, ng::bidi_ready const& ready)
{
    auto it = inbound_.find(&source);
    if (it == inbound_.end() || stopping_ || rt_->domains.find_partner(ready.pair.remote) == nullptr ||
        blocked(ready.pair.remote) != nullptr)
        return;
    if (link_for(ready.pair).adopt(it->second.c))
        it->second.lent_to = ready.pair;
    else
        spdlog::info("{} {} -> {}: our own stream carries ours; this one carries {}'s only", source.id(),
                     ready.pair.local, ready.pair.remote, ready.pair.remote);
}

outbound_link* router::borrower_of(connection& source)
{
    auto it = inbound_.find(&source);
    if (it == inbound_.end() || !it->second.lent_to)
        return nullptr;
    if (auto link = links_.find(*it->second.lent_to); link != links_.end() && link->second->borrows(source))
        return link->second.get();
    // A link a reload replaced may still wait for its last count on it.
    for (auto& link : retired_links_)
        if (link->borrows(source))
            return link.get();
    return nullptr;
}

void router::may_write_on(connection& source, bool counted)
{
    if (auto* link = borrower_of(source))
        link->may_write(source, counted);
}

void router::acknowledged_on(connection& source, std::uint32_t handled)
{
    if (auto* link = borrower_of(source))
        link->acknowledged(source, handled);
}

void router::release_lent(connection& source)
{
    // A link a reload retired may hold it too: each checks it is its own.
    for (auto& [pair, link] : links_)
        link->released(source);
    for (auto& link : retired_links_)
        link->released(source);
}

void router::end_bidi_waits()
{
    std::vector<std::shared_ptr<connection>> due;
    for (auto& [raw, in] : inbound_)
        if (in.awaiting_bidi_decision && in.bidi_wait_ticks++ >= 1)
            due.push_back(in.c);
    for (auto& c : due)  // feeding may change inbound_
        c->feed(ng::deadline_passed{});
}

}  // namespace fedgate::routing
