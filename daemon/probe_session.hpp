#pragma once
/// @file
/// `fedgate probe`'s window on a negotiation: a session that passes every event
/// to fedgate's own outbound_session and every action back, unchanged, noting
/// on the way what the peer showed (its header, its features before and after
/// TLS, the SASL and dialback answers) and what the session decided (TLS
/// started, authenticated with, closed because). The negotiation is the one
/// `fedgate run` makes; only what comes after it (stanzas) never happens.

#include "negotiation/outbound_session.hpp"
#include "probe/observation.hpp"

#include <functional>
#include <memory>

namespace fedgate::daemon {

class probe_session final : public negotiation::session {
public:
    /// `seen` is borrowed and must outlive the session.
    probe_session(std::unique_ptr<negotiation::outbound_session> inner, probe::negotiation_seen& seen);

    /// Called when the TLS handshake completed, before the session hears of it:
    /// the driver reads the peer's certificate from the connection then.
    std::function<void(probe::negotiation_seen&)> on_tls;

    [[nodiscard]] std::vector<negotiation::action> start() override;
    [[nodiscard]] std::vector<negotiation::action> handle(negotiation::event e) override;
    [[nodiscard]] bool finished() const noexcept override { return inner_->finished(); }

private:
    void observe(negotiation::event const& e);
    void observe(protocol::element const& e);
    std::vector<negotiation::action> note(std::vector<negotiation::action> actions);

    std::unique_ptr<negotiation::outbound_session> inner_;
    probe::negotiation_seen& seen_;
};

/// The features of one <stream:features/> element, as a probe reports them.
[[nodiscard]] probe::features_seen features_of(protocol::element const& features);

}  // namespace fedgate::daemon
