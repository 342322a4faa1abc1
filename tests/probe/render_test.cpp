// The two renderings of a report: the JSON of probe/README.md (version 1) and
// the text, both carrying every step's stage, outcome, reason and advice.
#include "probe/explain.hpp"
#include "probe/render.hpp"
#include "scripted_peers.hpp"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fedgate::probe {
namespace {

using ::testing::HasSubstr;

TEST(probe_render, json_has_version_1_and_every_step)
{
    auto r = explain(testing::healthy_peer());
    auto parsed = boost::json::parse(render_json(r)).as_object();
    EXPECT_EQ(parsed.at("version").as_int64(), 1);
    EXPECT_EQ(parsed.at("domain").as_string(), "b.test");
    EXPECT_EQ(parsed.at("negotiable").as_bool(), true);
    EXPECT_EQ(parsed.at("method").as_string(), "sasl-over-tls");
    EXPECT_EQ(parsed.at("partner").as_object().at("tls").as_string(), "required");
    auto const& steps = parsed.at("steps").as_array();
    ASSERT_EQ(steps.size(), r.steps.size());
    auto const& cert = steps[3].as_object();
    EXPECT_EQ(cert.at("stage").as_string(), "certificate");
    EXPECT_EQ(cert.at("outcome").as_string(), "ok");
    EXPECT_EQ(cert.at("reason").as_string(), "certificate-valid");
    EXPECT_EQ(cert.at("facts").as_object().at("dns_ids").as_array().at(0).as_string(), "b.test");
    EXPECT_EQ(parsed.at("not_checked").as_array().size(), r.not_checked.size());
}

TEST(probe_render, json_of_a_domain_that_is_no_partner)
{
    auto o = testing::healthy_peer();
    o.partner.reset();
    auto parsed = boost::json::parse(render_json(explain(o))).as_object();
    EXPECT_TRUE(parsed.at("partner").is_null());
    EXPECT_TRUE(parsed.at("method").is_null());
    EXPECT_EQ(parsed.at("alternatives").as_array().size(), 11u);
    EXPECT_TRUE(parsed.at("partner_types").as_object().contains("public_unverified"));
}

TEST(probe_render, text_names_stage_outcome_reason_and_advice)
{
    auto o = testing::healthy_peer();
    o.addresses.front().connected = false;
    o.addresses.front().error = "Connection refused";
    o.negotiation.reset();
    auto text = render_text(explain(o));
    EXPECT_THAT(text, HasSubstr("fedgate probe b.test (from a.test): partner b.test (federated)"));
    EXPECT_THAT(text, HasSubstr("[tcp] failed: 192.0.2.7 port 5269: Connection refused (connection-refused)"));
    EXPECT_THAT(text, HasSubstr("    advice: Nothing listens on 192.0.2.7 port 5269"));
    EXPECT_THAT(text, HasSubstr("Not checked from this side:"));
    EXPECT_THAT(text, HasSubstr("Result: fedgate would negotiate nothing with b.test."));
}

}  // namespace
}  // namespace fedgate::probe
