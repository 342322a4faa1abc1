#include "session_harness.hpp"

#include "negotiation/stream_management.hpp"

#include "negotiation/base64.hpp"
#include "protocol/serializer.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace fedgate::test {

certificate_verdict stated_certificate::check(std::string_view domain) const
{
    if (!valid_)
        return {certificate_verdict::status::untrusted, std::nullopt, "the chain is not trusted (test)"};
    if (domain != domain_)
        return {certificate_verdict::status::name_mismatch, std::nullopt,
                "the certificate names " + domain_ + ", not " + std::string{domain}};
    return {certificate_verdict::status::valid, identity_kind::dns_id, {}};
}

std::shared_ptr<peer_certificate const> certificate_for(std::string domain, bool valid)
{
    return std::make_shared<stated_certificate>(std::move(domain), valid);
}

template <class T>
T only(std::vector<action> const& actions)
{
    auto found = all<T>(actions);
    EXPECT_EQ(found.size(), 1u) << "in: " << sent_xml(actions);
    return found.empty() ? T{} : found.front();
}

template close_stream only<close_stream>(std::vector<action> const&);
template authenticated only<authenticated>(std::vector<action> const&);
template ask_dialback only<ask_dialback>(std::vector<action> const&);
template send_element only<send_element>(std::vector<action> const&);
template send_header only<send_header>(std::vector<action> const&);
template begin_tls only<begin_tls>(std::vector<action> const&);
template route_stanza only<route_stanza>(std::vector<action> const&);
template bounce_stanza only<bounce_stanza>(std::vector<action> const&);
template dialback_verified only<dialback_verified>(std::vector<action> const&);
template discarded only<discarded>(std::vector<action> const&);
template link_ready only<link_ready>(std::vector<action> const&);
template acknowledged only<acknowledged>(std::vector<action> const&);
template send_ack only<send_ack>(std::vector<action> const&);
template bidi_ready only<bidi_ready>(std::vector<action> const&);
template bidi_counting only<bidi_counting>(std::vector<action> const&);

std::string sent_xml(std::vector<action> const& actions)
{
    std::string xml;
    for (auto const& a : actions) {
        if (auto const* h = std::get_if<send_header>(&a))
            xml += protocol::open_stream({.content = h->content,
                                          .from = h->from,
                                          .to = h->to,
                                          .id = h->id,
                                          .dialback = h->content == protocol::ns::server});
        else if (auto const* e = std::get_if<send_element>(&a))
            xml += protocol::to_string(e->element);
        else if (auto const* ack = std::get_if<send_ack>(&a))
            xml += protocol::to_string(sm::answer(ack->handled));  // as network/connection writes it when not paused
        else if (auto const* c = std::get_if<close_stream>(&a); c && !c->drop_connection) {
            // A dropped connection gets nothing more, as network/connection does.
            if (c->condition)
                xml += protocol::stream_error_element(*c->condition, c->detail);
            xml += protocol::close_stream();
        }
    }
    return xml;
}

std::string peer_header(std::string_view from, std::string_view to, std::string_view id)
{
    return protocol::open_stream({.from = from, .to = to, .id = id});
}

// ---- inbound ---------------------------------------------------------------------

inbound_fixture::inbound_fixture(negotiation_settings settings, bool direct_tls, stream_extensions extensions)
{
    domains.add_local_domain("contoso.test");
    domains.add_local_domain("contoso-sales.test");
    domains.add_partner("fabrikam.test", {"chat.fabrikam.test"}, settings, policy::partner_type::federated,
                        extensions);
    session = std::make_unique<inbound_session>(inbound_context{
        .domains = &domains,
        .secret = &secret,
        .sasl = sasl.get(),
        .make_stream_id = [this] { return "id-" + std::to_string(++ids); },
        .direct_tls = direct_tls,
    });
    driver = std::make_unique<stream_driver>(*session);
    (void)driver->start();
}

void inbound_fixture::use_blocklist(std::shared_ptr<policy::blocklist const> blocked)
{
    session = std::make_unique<inbound_session>(inbound_context{
        .domains = &domains,
        .secret = &secret,
        .sasl = sasl.get(),
        .make_stream_id = [this] { return "id-" + std::to_string(++ids); },
        .blocklist = std::move(blocked),
    });
    driver = std::make_unique<stream_driver>(*session);
    (void)driver->start();
}

std::vector<action> inbound_fixture::tls(std::shared_ptr<peer_certificate const> certificate)
{
    return driver->handle(tls_established{std::move(certificate)});
}

std::vector<action> inbound_fixture::open(std::string_view from, std::string_view to)
{
    return receive(peer_header(from, to));
}

std::vector<action> inbound_fixture::secure_and_reopen(bool certificate_valid)
{
    auto out = receive("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    EXPECT_EQ(all<begin_tls>(out).size(), 1u) << sent_xml(out);
    (void)tls(certificate_for("fabrikam.test", certificate_valid));
    return open();
}

std::string inbound_fixture::peer_key(std::string_view from, std::string_view to) const
{
    return peer_secret.key(to, from, session->stream_id());
}

// ---- outbound --------------------------------------------------------------------

outbound_fixture::outbound_fixture(negotiation_settings settings, outbound_purpose purpose, bool direct_tls,
                                   stream_extensions extensions)
{
    session = std::make_unique<outbound_session>(outbound_context{
        .pair = {"contoso.test", "fabrikam.test"},
        .partner = {"fabrikam.test", settings, evaluate(settings).applied(), policy::partner_type::federated,
                    extensions},
        .secret = &secret,
        .sasl = sasl.get(),
        .direct_tls = direct_tls,
        .purpose = purpose,
    });
    driver = std::make_unique<stream_driver>(*session);
}

std::vector<action> outbound_fixture::peer_opens(std::string_view features, std::string_view id)
{
    return receive(peer_header("fabrikam.test", "contoso.test", id) + "<stream:features>" + std::string{features} +
                   "</stream:features>");
}

// ---- the loopback wire -------------------------------------------------------------

namespace {

/// One end of the wire: its driver, what it has asked for, what it concluded.
struct endpoint {
    stream_driver* driver;
    std::vector<action> log;
    bool wants_tls = false;
    bool closed = false;
};

}  // namespace

wire_outcome run_wire(wire_setup const& setup)
{
    // contoso.test's gateway receives; fabrikam.test's initiates.
    directory contoso;
    contoso.add_local_domain("contoso.test");
    contoso.add_partner("fabrikam.test", {}, setup.receiver_policy, policy::partner_type::federated,
                        setup.receiver_extensions);
    auto contoso_secret = dialback_secret::from_text("contoso secret");
    auto fabrikam_secret = dialback_secret::from_text("fabrikam secret");
    auto sasl_server = make_cyrus_sasl_server();
    auto sasl_client = make_cyrus_sasl_client();
    unsigned ids = 0;
    inbound_session receiver{{.domains = &contoso,
                              .secret = &contoso_secret,
                              .sasl = sasl_server.get(),
                              .make_stream_id = [&] { return "stream-" + std::to_string(++ids); }}};
    outbound_session initiator{{.pair = {"fabrikam.test", "contoso.test"},
                                .partner = {"contoso.test", setup.initiator_policy,
                                            evaluate(setup.initiator_policy).applied(),
                                            policy::partner_type::federated, setup.initiator_extensions},
                                .secret = &fabrikam_secret,
                                .sasl = sasl_client.get()}};
    stream_driver receiver_driver{receiver};
    stream_driver initiator_driver{initiator};
    endpoint in{&receiver_driver, {}};
    endpoint out{&initiator_driver, {}};
    wire_outcome outcome;

    // Perform `actions` of `from`: bytes go to `to`, the rest is recorded.
    std::deque<std::pair<endpoint*, std::vector<action>>> work;
    auto push = [&](endpoint& from, std::vector<action> actions) { work.emplace_back(&from, std::move(actions)); };
    push(in, receiver_driver.start());
    push(out, initiator_driver.start());
    for (int steps = 0; !work.empty() && steps < 200; ++steps) {
        auto [from, actions] = std::move(work.front());
        work.pop_front();
        endpoint& to = from == &in ? out : in;
        for (auto const& a : actions) {
            from->log.push_back(a);
            if (std::holds_alternative<begin_tls>(a))
                from->wants_tls = true;
            if (std::holds_alternative<close_stream>(a))
                from->closed = true;
            if (auto const* ask = std::get_if<ask_dialback>(&a)) {
                // fabrikam.test's authoritative server checks the key with its secret.
                bool valid = fabrikam_secret.verify(ask->key, ask->pair.local, ask->pair.remote, ask->stream_id);
                push(in, receiver_driver.handle(
                             dialback_answer{ask->pair, ask->stream_id,
                                             valid ? dialback_outcome::valid : dialback_outcome::invalid}));
            }
        }
        auto bytes = sent_xml(actions);
        if (!bytes.empty() && !to.closed)
            push(to, to.driver->receive(bytes));
        if (from->closed && !to.closed && !to.driver->finished())
            push(to, to.driver->handle(transport_closed{"the other side closed"}));
        if (in.wants_tls && out.wants_tls) {
            in.wants_tls = out.wants_tls = false;
            outcome.tls = true;
            push(in, receiver_driver.handle(
                         tls_established{certificate_for("fabrikam.test", setup.initiator_certificate_valid)}));
            push(out, initiator_driver.handle(
                          tls_established{certificate_for("contoso.test", setup.receiver_certificate_valid)}));
        }
    }
    EXPECT_TRUE(work.empty()) << "the dialogue did not settle";
    for (auto const& a : in.log) {
        if (auto const* auth = std::get_if<authenticated>(&a))
            outcome.inbound_auth = *auth;
        if (auto const* c = std::get_if<close_stream>(&a); c && !outcome.inbound_close)
            outcome.inbound_close = *c;
    }
    for (auto const& a : out.log) {
        if (auto const* auth = std::get_if<authenticated>(&a))
            outcome.outbound_auth = *auth;
        if (auto const* c = std::get_if<close_stream>(&a); c && !outcome.outbound_close)
            outcome.outbound_close = *c;
    }
    outcome.inbound_actions = std::move(in.log);
    outcome.outbound_actions = std::move(out.log);
    return outcome;
}

// ---- what scripted peers send ----------------------------------------------------

negotiation_settings tcp_dialback_only()
{
    return {requirement::not_supported, requirement::not_supported, true};
}

negotiation_settings tls_required_sasl_optional()
{
    return {requirement::required, requirement::optional, true};
}

std::string db_result(std::string_view from, std::string_view to, std::string_view key)
{
    return "<db:result from='" + std::string{from} + "' to='" + std::string{to} + "'>" + std::string{key} +
           "</db:result>";
}

std::string message(std::string_view from, std::string_view to)
{
    return "<message from='" + std::string{from} + "' to='" + std::string{to} + "' id='m1'><body>hi</body></message>";
}

std::string auth_external(std::string_view authzid)
{
    return "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" +
           fedgate::negotiation::sasl_base64_encode(authzid) + "</auth>";
}

}  // namespace fedgate::test
