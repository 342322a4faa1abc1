#pragma once
// Test harness for the negotiation sessions: certificates with a stated verdict,
// action look-ups, raw-XML scripted peers, and a loopback "wire" joining an
// outbound session to an inbound one through their stream drivers.

#include "negotiation/directory.hpp"
#include "negotiation/inbound_session.hpp"
#include "negotiation/outbound_session.hpp"
#include "negotiation/stream_driver.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fedgate::test {

using namespace fedgate::negotiation;

/// A certificate that is valid for exactly one domain, or for none.
class stated_certificate final : public peer_certificate {
public:
    stated_certificate(std::string domain, bool valid) : domain_{std::move(domain)}, valid_{valid} {}
    certificate_verdict check(std::string_view domain) const override;

private:
    std::string domain_;
    bool valid_;
};

std::shared_ptr<peer_certificate const> certificate_for(std::string domain, bool valid = true);

/// The actions of type T, in order.
template <class T>
std::vector<T> all(std::vector<action> const& actions)
{
    std::vector<T> found;
    for (auto const& a : actions)
        if (auto const* t = std::get_if<T>(&a))
            found.push_back(*t);
    return found;
}

/// The only action of type T; fails the test (and returns a default) otherwise.
template <class T>
T only(std::vector<action> const& actions);

/// The XML the actions send, serialised as the daemon would.
std::string sent_xml(std::vector<action> const& actions);

/// Stream header text a scripted peer sends.
std::string peer_header(std::string_view from, std::string_view to, std::string_view id = {});

/// One side of a scripted dialogue with an inbound session (we are receiving).
struct inbound_fixture {
    directory domains;
    dialback_secret secret = dialback_secret::from_text("our secret");
    std::unique_ptr<sasl_server> sasl = make_cyrus_sasl_server();
    unsigned ids = 0;
    std::unique_ptr<inbound_session> session;
    std::unique_ptr<stream_driver> driver;

    /// Local domains contoso.test and contoso-sales.test, partner fabrikam.test
    /// (additional domain chat.fabrikam.test) with `settings`.
    /// `extensions`: the partner's XEP-0198 and XEP-0288 settings.
    explicit inbound_fixture(negotiation_settings settings = {}, bool direct_tls = false,
                             stream_extensions extensions = {});

    std::vector<action> receive(std::string_view xml) { return driver->receive(xml); }
    std::vector<action> handle(event const& e) { return driver->handle(e); }
    /// A fresh session, as the router would make it with the operator's blocklist.
    void use_blocklist(std::shared_ptr<policy::blocklist const> blocked);
    /// Completes a STARTTLS (or direct TLS) handshake with a peer certificate.
    std::vector<action> tls(std::shared_ptr<peer_certificate const> certificate);
    /// Opens the stream as fabrikam.test -> contoso.test.
    std::vector<action> open(std::string_view from = "fabrikam.test", std::string_view to = "contoso.test");
    /// STARTTLS, handshake with a certificate valid for fabrikam.test, stream reopened.
    std::vector<action> secure_and_reopen(bool certificate_valid = true);
    /// The dialback key fabrikam.test's server would present on the current stream.
    std::string peer_key(std::string_view from = "fabrikam.test", std::string_view to = "contoso.test") const;
    dialback_secret peer_secret = dialback_secret::from_text("fabrikam secret");
};

/// One side of a scripted dialogue with an outbound session (we initiate).
struct outbound_fixture {
    dialback_secret secret = dialback_secret::from_text("our secret");
    std::unique_ptr<sasl_client> sasl = make_cyrus_sasl_client();
    std::unique_ptr<outbound_session> session;
    std::unique_ptr<stream_driver> driver;

    /// contoso.test -> fabrikam.test with `settings`.
    explicit outbound_fixture(negotiation_settings settings = {}, outbound_purpose purpose = outbound_purpose::route,
                              bool direct_tls = false, stream_extensions extensions = {});
    std::vector<action> start() { return driver->start(); }
    std::vector<action> receive(std::string_view xml) { return driver->receive(xml); }
    std::vector<action> handle(event const& e) { return driver->handle(e); }
    /// The peer's header (id 'peer-1'), then `features` (inner XML of <stream:features>).
    std::vector<action> peer_opens(std::string_view features, std::string_view id = "peer-1");
};

/// Features a peer offers, as inner XML.
inline constexpr std::string_view starttls_feature = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
inline constexpr std::string_view starttls_required_feature =
    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
inline constexpr std::string_view external_feature =
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism></mechanisms>";
inline constexpr std::string_view dialback_feature = "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>";

/// Two gateways on a loopback wire: `initiator` (fabrikam.test's, outbound) talks
/// to `receiver` (contoso.test's, inbound). TLS handshakes complete when both
/// sides asked for one; dialback verifications are answered with the
/// initiator's secret, as its authoritative server would.
struct wire_outcome {
    std::optional<authenticated> inbound_auth;   ///< what the receiver concluded
    std::optional<authenticated> outbound_auth;  ///< what the initiator concluded
    std::optional<close_stream> inbound_close;
    std::optional<close_stream> outbound_close;
    bool tls = false;
    std::vector<action> inbound_actions;
    std::vector<action> outbound_actions;
};

struct wire_setup {
    negotiation_settings receiver_policy;   ///< contoso.test's policy for fabrikam.test
    negotiation_settings initiator_policy;  ///< fabrikam.test's policy for contoso.test
    bool receiver_certificate_valid = true;
    bool initiator_certificate_valid = true;
    stream_extensions receiver_extensions{};   ///< contoso.test's for fabrikam.test
    stream_extensions initiator_extensions{};  ///< fabrikam.test's for contoso.test
};

wire_outcome run_wire(wire_setup const& setup);

// ---- what scripted peers send ----------------------------------------------------

inline constexpr std::string_view starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
negotiation_settings tcp_dialback_only();
negotiation_settings tls_required_sasl_optional();
std::string db_result(std::string_view from, std::string_view to, std::string_view key = "key");
/// A chat message with id 'm1'.
std::string message(std::string_view from, std::string_view to);
/// SASL EXTERNAL with `authzid` as the initial response.
std::string auth_external(std::string_view authzid);

}  // namespace fedgate::test
