#pragma once
/// @file
/// What the partner types let remote contacts do to local users (seed 000 step
/// 10; shared/DESIGN.md "Partner types: contact rules"), as one object the router
/// asks per stanza: whether an inbound stanza reaches its local user, and when an
/// outbound one may leave, which is only once the invitation it carries is
/// durable. It learns relationships from the subscriptions it sees (RFC 6121 §3),
/// keeps them in a relationship_store, and keeps stanzas to one pair in order
/// while an invitation is being committed. Sans-I/O: the store completes writes
/// through its dispatcher, and everything else is asked of the owner.

#include "contacts/commit_gate.hpp"
#include "contacts/contact_rules.hpp"
#include "contacts/relationship_store.hpp"
#include "policy/partner.hpp"
#include "protocol/element.hpp"
#include "protocol/jid.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fedgate::contacts {

/// What the contact policy asks of its owner (the router).
class contact_owner {
public:
    enum class severity : std::uint8_t { info, error };
    /// Stanzas to `pair` that waited behind an invitation and may leave now, in order.
    virtual void release(policy::domain_pair const& pair, std::vector<protocol::element> stanzas) = 0;
    /// An error reply for the sender of a stanza that may not leave; `why` for the log.
    virtual void bounce(protocol::element reply, std::string_view why) = 0;
    /// A line for the log; lines with a `summary_key` may be summarised per key.
    virtual void log(severity s, std::string_view summary_key, std::string const& line) = 0;
    /// fedgate_refusals_total{partner, reason}: the counter itself, which stays valid.
    [[nodiscard]] virtual std::uint64_t& refusal_counter(std::string_view partner, std::string_view reason) = 0;

protected:
    ~contact_owner() = default;
};

/// How much may wait per pair behind an invitation being recorded ([limits]
/// commit_wait_stanzas, commit_wait_bytes): a store that stalls must not make
/// fedgate hold a busy pair's traffic without end.
struct commit_wait_limits {
    std::size_t stanzas = 1000;
    std::size_t bytes = 1024 * 1024;
};

class contact_policy {
public:
    contact_policy(relationship_store& store, contact_owner& owner, commit_wait_limits limits = {})
        : store_{&store}, owner_{&owner}, limits_{limits}
    {
    }
    /// A reload: what is held already stays.
    void set_limits(commit_wait_limits limits) noexcept { limits_ = limits; }

    /// The inbound stanza reaches the local user.
    struct pass {};
    /// It does not; `reply` (when the rules answer one) goes back to the sender.
    struct refuse {
        std::optional<protocol::element> reply;
    };
    /// An authenticated stanza from a partner of `type` named `partner` (its
    /// primary domain), with its addresses as the session parsed them: refusals
    /// are logged and counted here, and what a passing subscription teaches is
    /// recorded.
    [[nodiscard]] std::variant<pass, refuse> inbound(policy::partner_type type, std::string_view partner,
                                                     protocol::element const& stanza,
                                                     protocol::stanza_addresses const& addresses);

    /// The outbound stanza leaves now (it is handed back).
    struct release {
        protocol::element stanza;
    };
    /// It waits: for its own invitation to be committed (`ticket`), or behind
    /// one. It comes back through contact_owner::release, or is bounced.
    struct wait {
        std::optional<commit_gate::ticket> ticket;
    };
    /// It may not wait: too much waits for `pair` already. Its sender got an
    /// error through contact_owner::bounce, and the refusal was logged and counted.
    struct refused {};
    /// A stanza from a local user to `pair.remote`, already allowed out, with its
    /// addresses as the session parsed them.
    [[nodiscard]] std::variant<release, wait, refused> outbound(policy::domain_pair const& pair,
                                                                protocol::element stanza,
                                                                protocol::stanza_addresses const& addresses);

    /// The store finished the write for `ticket`: what waited behind it leaves
    /// (contact_owner::release); when the write failed, the invitation does not
    /// leave, memory is put back, and its sender gets <internal-server-error/>.
    void committed(commit_gate::ticket ticket, std::string const& error);

    /// Shutdown: every stanza held behind an uncommitted invitation (the
    /// invitations too), in order per pair, for the owner to bounce. Writes
    /// that finish later release nothing.
    [[nodiscard]] std::vector<protocol::element> give_up();

    /// Stanzas held behind uncommitted invitations.
    [[nodiscard]] std::size_t held() const noexcept;

private:
    /// What a ticket's write changed, to undo it when the write fails.
    struct pending_write {
        policy::domain_pair pair;
        commit_gate::ticket in_gate;
        relationship who;
        relationship_state before;
        relationship_state after;
    };

    /// Refuses `stanza` when the gate of `pair` is full.
    [[nodiscard]] bool over_limits(policy::domain_pair const& pair, commit_gate const& gate,
                                   protocol::element const& stanza, std::size_t bytes);

    relationship_store* store_;
    contact_owner* owner_;
    commit_wait_limits limits_;
    std::map<policy::domain_pair, commit_gate> gates_;  // only pairs with stanzas held
    std::map<commit_gate::ticket, pending_write> writes_;
    commit_gate::ticket next_ticket_ = 1;
};

}  // namespace fedgate::contacts
