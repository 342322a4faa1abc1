#pragma once
/// @file
/// fedgate's side of one XEP-0114 component link to the internal server: fedgate
/// connects as the component for one partner domain, proves the shared secret,
/// then carries stanzas both ways. Stanzas from the internal server must come from
/// one of our local domains and go to this link's partner domain.

#include "negotiation/directory.hpp"
#include "negotiation/session_types.hpp"

#include <string>

namespace fedgate::negotiation {

struct component_context {
    std::string domain;             ///< the partner domain this link stands for
    std::string secret;             ///< the component secret shared with the internal server
    directory const* domains = nullptr;  ///< borrowed: which domains are ours
};

/// The XEP-0114 handshake: lowercase hex SHA-1 of stream id and secret (§3).
[[nodiscard]] std::string component_handshake(std::string_view stream_id, std::string_view secret);

/// @see XEP-0114 §3; shared/DESIGN.md "The two sides"
class component_session final : public session {
public:
    explicit component_session(component_context context);

    [[nodiscard]] std::vector<action> start() override;
    [[nodiscard]] std::vector<action> handle(event e) override;
    [[nodiscard]] bool finished() const noexcept override { return state_ == state::closed; }
    [[nodiscard]] bool ready() const noexcept { return state_ == state::ready; }

private:
    /// awaiting_refusal: a header without a stream id, which is how Prosody
    /// opens the stream it refuses (<host-unknown/> follows).
    enum class state : std::uint8_t { awaiting_header, awaiting_refusal, awaiting_handshake, ready, closed };

    std::vector<action> on_header(protocol::stream_header const& header);
    std::vector<action> on_element(protocol::element&& e);
    std::vector<action> on_stanza(protocol::element&& stanza);
    std::vector<action> close(std::optional<protocol::stream_error> condition, close_reason reason,
                              std::string detail);

    component_context context_;
    state state_ = state::awaiting_header;
};

}  // namespace fedgate::negotiation
