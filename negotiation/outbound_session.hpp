#pragma once
/// @file
/// The initiating side of one S2S stream: STARTTLS per policy, the peer
/// certificate checked for the remote domain, then SASL EXTERNAL, TLS dialback or
/// TCP dialback in that order of preference, as the partner's policy allows; then
/// XEP-0198 stream management when the peer offers it and the partner's setting
/// allows (acknowledgements only). Also carries db:verify requests for the
/// router (XEP-0220 §2.1.2).

#include "negotiation/dialback_key.hpp"
#include "negotiation/directory.hpp"
#include "negotiation/sasl_external.hpp"
#include "negotiation/session_types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fedgate::negotiation {

/// What the stream is for.
enum class outbound_purpose : std::uint8_t {
    route,        ///< authenticate the pair and carry stanzas
    verify_only,  ///< only send db:verify requests, then close (XEP-0220 §2.1.2 note)
};

/// What an outbound session is given; pointers are borrowed and must outlive it.
struct outbound_context {
    domain_pair pair;        ///< local = our domain (stanzas' from), remote = the partner's
    partner_rules partner;   ///< the partner owning pair.remote
    dialback_secret const* secret = nullptr;
    sasl_client* sasl = nullptr;
    bool direct_tls = false;  ///< the candidate is an _xmpps-server one (XEP-0368)
    outbound_purpose purpose = outbound_purpose::route;
};

/// @see RFC 6120 §4-§6; RFC 7590 §3; XEP-0178 §4; XEP-0220 §2.1; shared/DESIGN.md "Partner policy"
class outbound_session final : public session {
public:
    explicit outbound_session(outbound_context context);

    [[nodiscard]] std::vector<action> start() override;
    [[nodiscard]] std::vector<action> handle(event e) override;
    [[nodiscard]] bool finished() const noexcept override { return state_ == state::closed; }

    /// Whether the pair is authenticated and stanzas may be written.
    [[nodiscard]] bool established() const noexcept { return state_ == state::established; }
    /// Whether the peer enabled XEP-0198: it counts what is written here.
    [[nodiscard]] bool stream_management() const noexcept { return sm_enabled_; }

private:
    enum class state : std::uint8_t {
        awaiting_header,
        awaiting_features,
        awaiting_proceed,
        tls_handshake,
        awaiting_sasl_result,
        awaiting_dialback_result,
        awaiting_stream_management,  ///< authenticated; <enable/> sent, its answer awaited
        established,
        closed,
    };

    std::vector<action> on_header(protocol::stream_header const& header);
    std::vector<action> on_element(protocol::element&& e);
    std::vector<action> on_features(protocol::element const& features);
    std::vector<action> on_proceed();
    std::vector<action> on_tls(tls_established const& tls);
    std::vector<action> on_sasl_answer(protocol::element const& answer);
    std::vector<action> on_db_result(protocol::element const& answer);
    std::vector<action> on_db_verify(protocol::element const& answer);
    std::vector<action> on_verify_request(verify_request request);
    std::vector<action> on_stream_management(protocol::element const& e);
    /// XEP-0288: whether the peer may send its stanzas for the pair on this
    /// stream now (bidi asked for, and authenticated).
    [[nodiscard]] bool carries_theirs() const noexcept;
    std::vector<action> on_peer_stanza(protocol::element&& stanza);
    /// A db:result request on our stream: the peer authenticating another of
    /// its domains (XEP-0288 §2.2 allows it on a bidi stream; we do not take it).
    std::vector<action> on_peer_db_request(protocol::element const& request);

    std::vector<action> authenticate(protocol::element const& features);
    std::vector<action> try_dialback(std::string const& why_not_sasl);
    std::vector<action> become_ready(auth_method method);
    std::vector<action> established_with(bool stream_management);
    std::vector<action> send_verifies(std::vector<action> out);
    std::vector<action> open_stream() const;
    auth_method dialback_method() const noexcept;
    std::vector<action> close(std::optional<protocol::stream_error> condition, close_reason reason,
                              std::string detail);

    outbound_context context_;
    state state_ = state::awaiting_header;
    bool tls_ = false;
    bool sasl_done_ = false;
    bool sm_offered_ = false;  ///< the last features offered XEP-0198
    bool sm_enabled_ = false;
    std::uint32_t handled_ = 0;  ///< the peer's stanzas since <enabled/> (XEP-0288 and XEP-0198, modulo 2^32)
    bool bidi_ = false;          ///< XEP-0288 asked for: the peer may send on this stream once we are authenticated
    auth_method method_ = auth_method::sasl_over_tls;  ///< once authenticated
    std::optional<certificate_verdict> certificate_;  ///< once TLS is up
    std::string stream_id_;                            ///< the peer's, for the dialback key
    bool ready_for_verify_ = false;
    std::vector<verify_request> queued_verifies_;
    std::vector<verify_request> sent_verifies_;
};

}  // namespace fedgate::negotiation
