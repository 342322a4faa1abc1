// The operator's blocklist on the receiving side: a blocked domain is refused
// with <policy-violation/> before any negotiation, whether the stream header or
// a db:result names it; a wildcard never blocks a listed partner.
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;

/// fabrikam.test -> contoso.test authenticates by dialback with a valid key.
void dialback_in_ok(inbound_fixture& f)
{
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", f.peer_key())));
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_EQ(only<authenticated>(out).pair.remote, "fabrikam.test");
}

std::shared_ptr<fedgate::policy::blocklist const> sample_blocklist()
{
    fedgate::policy::blocklist b;
    (void)b.add_exact("evil.test", 1);
    (void)b.add_suffix("spam.test", 2);
    (void)b.add_suffix("fabrikam.test", 3);  // meant for strangers: never the listed partner
    return std::make_shared<fedgate::policy::blocklist const>(std::move(b));
}

TEST(inbound_blocklist, a_blocked_domain_is_refused_before_any_feature)
{
    inbound_fixture f{tls_required_sasl_optional()};
    f.use_blocklist(sample_blocklist());
    auto out = f.open("evil.test");
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::blocked);
    EXPECT_THAT(close.detail, HasSubstr("evil.test is blocked here (blocklist line 1: evil.test)"));
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("starttls")));
}

TEST(inbound_blocklist, a_wildcard_blocks_every_subdomain_of_a_stranger)
{
    inbound_fixture f;
    f.use_blocklist(sample_blocklist());
    auto close = only<close_stream>(f.open("muc.a.spam.test"));
    EXPECT_EQ(close.reason, close_reason::blocked);
    EXPECT_THAT(close.detail, HasSubstr("line 2: *.spam.test"));
}

TEST(inbound_blocklist, a_wildcard_does_not_block_a_listed_partner)
{
    inbound_fixture f{tcp_dialback_only()};
    f.use_blocklist(sample_blocklist());
    auto out = f.open("chat.fabrikam.test");  // an additional domain of the listed partner
    EXPECT_TRUE(all<close_stream>(out).empty());
    EXPECT_EQ(only<send_header>(out).to, "chat.fabrikam.test");
}

TEST(inbound_blocklist, a_listed_partner_named_exactly_is_blocked)
{
    fedgate::policy::blocklist b;
    (void)b.add_exact("fabrikam.test", 7);
    inbound_fixture f{tcp_dialback_only()};
    f.use_blocklist(std::make_shared<fedgate::policy::blocklist const>(std::move(b)));
    auto close = only<close_stream>(f.open("fabrikam.test"));
    EXPECT_EQ(close.reason, close_reason::blocked);
    EXPECT_THAT(close.detail, HasSubstr("line 7"));
}

TEST(inbound_blocklist, a_db_result_from_a_blocked_domain_ends_a_stream_opened_without_from)
{
    inbound_fixture f{tcp_dialback_only()};
    f.use_blocklist(sample_blocklist());
    auto opened = f.receive(peer_header({}, "contoso.test"));
    ASSERT_TRUE(all<close_stream>(opened).empty());
    auto out = f.receive(db_result("evil.test", "contoso.test"));
    EXPECT_TRUE(all<ask_dialback>(out).empty());
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::blocked);
}

TEST(inbound_blocklist, a_blocked_additional_domain_on_its_partners_stream_is_refused_alone)
{
    fedgate::policy::blocklist b;
    (void)b.add_exact("chat.fabrikam.test", 4);
    inbound_fixture f{tcp_dialback_only()};
    f.use_blocklist(std::make_shared<fedgate::policy::blocklist const>(std::move(b)));
    ASSERT_TRUE(all<close_stream>(f.open("fabrikam.test")).empty());
    auto out = f.receive(db_result("chat.fabrikam.test", "contoso.test"));
    EXPECT_TRUE(all<close_stream>(out).empty()) << "the partner's own domain stays up";
    EXPECT_TRUE(all<ask_dialback>(out).empty());
    EXPECT_THAT(sent_xml(out), HasSubstr("not-allowed"));
    EXPECT_THAT(sent_xml(out), HasSubstr("type='error'"));
    dialback_in_ok(f);
}

TEST(inbound_blocklist, without_a_blocklist_a_stranger_is_only_not_a_partner)
{
    inbound_fixture f;
    auto close = only<close_stream>(f.open("evil.test"));
    EXPECT_EQ(close.reason, close_reason::unknown_partner);
}

}  // namespace
