#pragma once
/// @file
/// The receiving side of one S2S stream: header checks, features per partner
/// policy, STARTTLS, SASL EXTERNAL (XEP-0178), dialback as Receiving Server and as
/// Authoritative Server (XEP-0220, XEP-0185), and the addressing check of every
/// stanza against the pairs authenticated on this stream.

#include "negotiation/dialback_key.hpp"
#include "negotiation/directory.hpp"
#include "negotiation/sasl_external.hpp"
#include "negotiation/session_types.hpp"
#include "policy/blocklist.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace fedgate::negotiation {

/// What an inbound session is given; everything is borrowed and must outlive it.
struct inbound_context {
    directory const* domains = nullptr;
    dialback_secret const* secret = nullptr;
    sasl_server* sasl = nullptr;
    /// New stream ids; production uses new_stream_id (128 bits from the CSPRNG).
    std::function<std::string()> make_stream_id = new_stream_id;
    /// Set when the connection arrived on the direct-TLS listener (XEP-0368): the
    /// first event is then tls_established, and STARTTLS is never offered.
    bool direct_tls = false;
    /// SASL and dialback failures tolerated before <policy-violation/>.
    unsigned max_auth_failures = 3;
    /// The operator's blocklist as the stream was accepted (none on the
    /// internal leg): a blocked domain is refused before any negotiation.
    std::shared_ptr<policy::blocklist const> blocklist{};
};

/// @see RFC 6120 §4-§6, §8.1; XEP-0178; XEP-0220 §2.2; shared/DESIGN.md "How a stanza travels"
class inbound_session final : public session {
public:
    explicit inbound_session(inbound_context context);

    [[nodiscard]] std::vector<action> start() override;
    [[nodiscard]] std::vector<action> handle(event e) override;
    [[nodiscard]] bool finished() const noexcept override { return state_ == state::closed; }
    /// The peer enabled stream management for its stanzas on this stream. (Not
    /// on our outbound streams: whether a XEP-0288 peer keeps its own stanzas
    /// there for its stream management is not known, so what it sends after a
    /// close of ours is passed on, as without a count.)
    [[nodiscard]] std::optional<std::uint32_t> handled_count() const noexcept override
    {
        return sm_enabled_ ? std::optional{handled_} : std::nullopt;
    }

    /// The pairs that may send stanzas on this stream.
    [[nodiscard]] std::set<domain_pair> const& authenticated_pairs() const noexcept { return authenticated_; }
    /// The id of the current stream header we sent (empty before the first).
    [[nodiscard]] std::string const& stream_id() const noexcept { return stream_id_; }
    [[nodiscard]] bool secured() const noexcept { return tls_; }
    /// The domain the peer last said it speaks for (a header's or a
    /// db:result's 'from', canonical), kept across restarts: whose attempt
    /// this stream is, for the partner state. Empty while it said none.
    [[nodiscard]] std::string const& peer_domain() const noexcept { return peer_domain_; }
    /// The peer asked us, as an authoritative server, to verify a dialback
    /// key (XEP-0220 §2.1.2): a stream that need not authenticate to succeed.
    [[nodiscard]] bool asked_verify() const noexcept { return asked_verify_; }
    /// XEP-0288: bidi_ready is out, and the peer has not enabled XEP-0198 yet;
    /// a deadline_passed event ends the wait (bidi_counting, uncounted).
    [[nodiscard]] bool awaiting_bidi_decision() const noexcept { return reverse_ == reverse_state::pending; }

private:
    enum class state : std::uint8_t { awaiting_tls, awaiting_header, open, tls_handshake, sasl_response, closed };

    std::vector<action> on_header(protocol::stream_header const& header);
    std::vector<action> on_element(protocol::element&& e);
    std::vector<action> on_tls(tls_established const& tls);
    std::vector<action> on_dialback_answer(dialback_answer const& answer);
    std::vector<action> answer_dialback(dialback_answer const& answer);
    std::vector<action> on_starttls();
    std::vector<action> on_auth(protocol::element const& auth);
    std::vector<action> on_sasl_response(protocol::element const& response);
    std::vector<action> finish_external(std::string_view base64_payload);
    std::vector<action> on_db_result(protocol::element const& request);
    std::vector<action> on_db_verify(protocol::element const& request);
    std::vector<action> on_stanza(protocol::element&& stanza);
    std::vector<action> on_stream_management(protocol::element const& e);
    std::vector<action> on_bidi_request();
    /// `pair` is authenticated and our header is out: with XEP-0288 asked for,
    /// bidi_ready, and bidi_counting now or once the peer decided on XEP-0198.
    void offer_reverse(std::vector<action>& out, domain_pair const& pair);
    /// bidi_counting: our stanzas counted by the peer or not.
    void decide_reverse(std::vector<action>& out, bool counted);

    protocol::element features() const;
    bool offers_starttls() const;
    bool offers_external() const;
    bool offers_dialback() const;
    bool offers_stream_management() const;
    bool offers_bidi() const;
    /// The method dialback would authenticate with on this stream.
    auth_method dialback_method() const noexcept;
    std::vector<action> sasl_failed(sasl_condition condition, std::string detail);
    std::vector<action> count_failure(std::vector<action> out, std::string const& detail);
    std::vector<action> close(std::optional<protocol::stream_error> condition, close_reason reason,
                              std::string detail);
    /// <policy-violation/> when `domain` is on the blocklist; nothing otherwise.
    std::optional<std::vector<action>> refuse_if_blocked(std::string const& domain);

    inbound_context context_;
    state state_ = state::awaiting_header;
    bool tls_ = false;
    std::shared_ptr<peer_certificate const> certificate_;
    bool sasl_done_ = false;
    unsigned failures_ = 0;

    // Learned from the current stream header; discarded on every restart.
    std::string local_;                        ///< header 'to'
    std::string remote_;                       ///< header 'from', empty when absent
    partner_rules const* partner_ = nullptr;  ///< the partner of remote_, when known
    std::string stream_id_;
    std::string peer_domain_;  ///< the last 'from' the peer claimed; kept across restarts
    bool asked_verify_ = false;

    // XEP-0198, once the peer enabled it: stanzas handled since (§4, modulo 2^32).
    bool sm_enabled_ = false;
    std::uint32_t handled_ = 0;

    // XEP-0288: the peer asked for a bidirectional stream; the pair whose
    // stanzas of ours it may carry (one per stream), and whether the peer counts them.
    bool bidi_ = false;
    enum class reverse_state : std::uint8_t { none, pending, ready };
    reverse_state reverse_ = reverse_state::none;
    domain_pair reverse_pair_;
    bool reverse_counted_ = false;

    std::set<domain_pair> authenticated_;
    std::map<domain_pair, std::string> pending_dialback_;  ///< pair -> stream id asked with
    std::vector<action> after_header_;  ///< dialback answers waiting for our next header
};

}  // namespace fedgate::negotiation
