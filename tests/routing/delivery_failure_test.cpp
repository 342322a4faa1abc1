// Which failures hold the queue for a retry and which bounce at once, with what.
#include "routing/delivery_failure.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::routing;
using fedgate::negotiation::close_reason;
using fedgate::protocol::stanza_condition;

TEST(delivery_failure, a_domain_that_does_not_exist_bounces_at_once_as_not_found)
{
    auto f = classify(fedgate::dns::error::nxdomain);
    EXPECT_EQ(f.condition, stanza_condition::remote_server_not_found);
    EXPECT_FALSE(f.retry);
    EXPECT_FALSE(classify(fedgate::dns::error::service_unavailable).retry);
}

TEST(delivery_failure, transient_dns_and_connection_failures_are_retried)
{
    auto dns_timeout = classify(fedgate::dns::error::timeout);
    EXPECT_EQ(dns_timeout.condition, stanza_condition::remote_server_timeout);
    EXPECT_TRUE(dns_timeout.retry);
    EXPECT_TRUE(classify(fedgate::dns::error::server_failure).retry);
    EXPECT_EQ(connection_failed(false).condition, stanza_condition::remote_server_not_found);
    EXPECT_EQ(connection_failed(true).condition, stanza_condition::remote_server_timeout);
    EXPECT_TRUE(connection_failed(false).retry);
    EXPECT_TRUE(classify(close_reason::transport_closed, "reset").retry);
    EXPECT_TRUE(classify(close_reason::timeout, "slow").retry);
}

TEST(delivery_failure, dialback_outcomes_bounce_as_xep_0220_says)
{
    auto invalid = classify(close_reason::dialback_invalid, "key invalid");
    EXPECT_EQ(invalid.condition, stanza_condition::internal_server_error);
    EXPECT_FALSE(invalid.retry);
    auto error = classify(close_reason::dialback_error, "no answer");
    EXPECT_EQ(error.condition, stanza_condition::remote_server_timeout);
    EXPECT_FALSE(error.retry);
}

TEST(delivery_failure, policy_failures_bounce_at_once_and_say_why)
{
    for (auto reason : {close_reason::tls_not_offered, close_reason::certificate_invalid, close_reason::no_common_method,
                        close_reason::sasl_failed, close_reason::tls_refused}) {
        auto f = classify(reason, "the reason");
        EXPECT_FALSE(f.retry) << metric_name(reason);
        EXPECT_EQ(f.text, "the reason");
    }
}

}  // namespace
