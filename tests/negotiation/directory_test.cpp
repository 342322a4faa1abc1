// The directory the sessions ask: local domains, listed partners by each of
// their domains, and [default_partner]'s terms for every other remote domain
// (open federation); the internal leg's view where every other domain is ours;
// and how two domains are told to be one partner's or not.
#include "negotiation/directory.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::negotiation;
using fedgate::policy::partner_type;
using fedgate::policy::rate_limit;

/// contoso.test and contoso-sales.test are ours; fabrikam.test (and
/// chat.fabrikam.test) a listed partner, adatum.test another.
directory sample()
{
    directory d;
    d.add_local_domain("contoso.test");
    d.add_local_domain("contoso-sales.test");
    d.add_partner("fabrikam.test", {"chat.fabrikam.test"}, {requirement::required, requirement::optional, true});
    d.add_partner("adatum.test", {}, {requirement::optional, requirement::not_supported, true},
                  partner_type::public_verified);
    return d;
}

negotiation_settings const open_settings{requirement::optional, requirement::not_supported, true};

/// The terms as routing/runtime.cpp gives them: domain and methods left for
/// set_default_partner to fill in (here deliberately wrong, to see it does).
partner_rules default_terms(negotiation_settings settings = open_settings)
{
    return {.domain = "whatever.test",
            .settings = settings,
            .methods = {auth_method::sasl_over_tls},
            .type = partner_type::public_unverified,
            .extensions = {.stream_management = false, .bidi = false},
            .rate_limit = {20, 131072},
            .listed = true};
}

TEST(directory, without_a_default_only_listed_partners_are_found)
{
    auto const d = sample();
    EXPECT_FALSE(d.open_federation());
    EXPECT_EQ(d.find_partner("stranger.test"), nullptr);
    EXPECT_EQ(d.find_partner(""), nullptr);
    EXPECT_FALSE(d.is_local("stranger.test"));
    auto const* fabrikam = d.find_partner("chat.fabrikam.test");
    ASSERT_NE(fabrikam, nullptr);
    EXPECT_EQ(fabrikam->domain, "fabrikam.test") << "an additional domain finds its partner";
    EXPECT_TRUE(fabrikam->listed);
    ASSERT_NE(d.find_partner("fabrikam.test"), nullptr);
    EXPECT_EQ(d.find_partner("fabrikam.test")->domain, "fabrikam.test");
}

TEST(directory, a_default_partner_serves_every_unlisted_remote_domain)
{
    auto d = sample();
    d.set_default_partner(default_terms());
    EXPECT_TRUE(d.open_federation());
    auto const* unlisted = d.find_partner("stranger.test");
    ASSERT_NE(unlisted, nullptr);
    EXPECT_FALSE(unlisted->listed);
    EXPECT_EQ(unlisted->domain, default_partner_label);
    EXPECT_EQ(unlisted->domain, "*");
    EXPECT_EQ(unlisted->settings, open_settings);
    EXPECT_EQ(unlisted->methods, evaluate(open_settings).applied()) << "judged again, whatever was given";
    EXPECT_FALSE(unlisted->methods.contains(auth_method::sasl_over_tls));
    EXPECT_TRUE(unlisted->methods.contains(auth_method::tcp_dialback));
    EXPECT_EQ(unlisted->type, partner_type::public_unverified);
    EXPECT_FALSE(unlisted->extensions.stream_management);
    EXPECT_FALSE(unlisted->extensions.bidi);
    EXPECT_EQ(unlisted->rate_limit, (rate_limit{20, 131072}));
    // One set of terms for all of them.
    EXPECT_EQ(d.find_partner("elsewhere.example"), unlisted);
    EXPECT_EQ(d.find_partner("muc.stranger.test"), unlisted);
    // Being served is not being ours.
    EXPECT_FALSE(d.is_local("stranger.test"));
}

TEST(directory, a_refused_combination_authenticates_no_unlisted_domain)
{
    auto d = sample();
    d.set_default_partner(default_terms({requirement::not_supported, requirement::required, true}));
    auto const* unlisted = d.find_partner("stranger.test");
    ASSERT_NE(unlisted, nullptr);
    EXPECT_TRUE(unlisted->methods.empty());
}

TEST(directory, listed_partners_keep_their_own_terms_in_open_federation)
{
    auto d = sample();
    d.set_default_partner(default_terms());
    for (auto const* domain : {"fabrikam.test", "chat.fabrikam.test"}) {
        auto const* p = d.find_partner(domain);
        ASSERT_NE(p, nullptr) << domain;
        EXPECT_TRUE(p->listed) << domain;
        EXPECT_EQ(p->domain, "fabrikam.test");
        EXPECT_EQ(p->type, partner_type::federated);
        EXPECT_FALSE(p->rate_limit.any());
        EXPECT_TRUE(p->methods.contains(auth_method::sasl_over_tls));
    }
    auto const* adatum = d.find_partner("adatum.test");
    ASSERT_NE(adatum, nullptr);
    EXPECT_EQ(adatum->domain, "adatum.test");
    EXPECT_EQ(adatum->type, partner_type::public_verified);
}

TEST(directory, local_domains_and_the_empty_domain_never_get_the_default)
{
    auto d = sample();
    d.set_default_partner(default_terms());
    EXPECT_EQ(d.find_partner("contoso.test"), nullptr);
    EXPECT_EQ(d.find_partner("contoso-sales.test"), nullptr);
    EXPECT_EQ(d.find_partner(""), nullptr);
    // A local domain added later is ours too, not a stranger.
    d.add_local_domain("contoso-hr.test");
    EXPECT_EQ(d.find_partner("contoso-hr.test"), nullptr);
    EXPECT_TRUE(d.is_local("contoso-hr.test"));
}

TEST(directory, find_listed_partner_ignores_the_default)
{
    auto d = sample();
    d.set_default_partner(default_terms());
    ASSERT_NE(d.find_partner("stranger.test"), nullptr);
    EXPECT_EQ(d.find_listed_partner("stranger.test"), nullptr);
    EXPECT_EQ(d.find_listed_partner("contoso.test"), nullptr);
    EXPECT_EQ(d.find_listed_partner(""), nullptr);
    auto const* listed = d.find_listed_partner("chat.fabrikam.test");
    ASSERT_NE(listed, nullptr);
    EXPECT_EQ(listed->domain, "fabrikam.test");
    EXPECT_EQ(listed, d.find_partner("chat.fabrikam.test")) << "find_partner looks up the listed ones first";
}

TEST(directory, speaking_for_every_other_domain_makes_it_local)
{
    // The internal leg (routing::internal_directory): the remote domains are
    // ours, the internal server's local domain the one partner.
    directory d;
    d.add_local_domain("fabrikam.test");
    d.add_partner("contoso.test", {"contoso-sales.test"}, {});
    EXPECT_FALSE(d.is_local("stranger.test"));
    d.speak_for_every_other_domain();
    EXPECT_TRUE(d.is_local("stranger.test"));
    EXPECT_TRUE(d.is_local("muc.elsewhere.example"));
    EXPECT_TRUE(d.is_local("fabrikam.test"));
    EXPECT_FALSE(d.is_local("contoso.test")) << "the partner's domain is not ours";
    EXPECT_FALSE(d.is_local("contoso-sales.test")) << "nor its additional domain";
    EXPECT_FALSE(d.is_local(""));
    EXPECT_EQ(d.find_partner("stranger.test"), nullptr);
    ASSERT_NE(d.find_partner("contoso-sales.test"), nullptr);
    EXPECT_EQ(d.find_partner("contoso-sales.test")->domain, "contoso.test");
    EXPECT_FALSE(d.open_federation()) << "speaking for them is not serving them";
}

TEST(directory, a_domain_spoken_for_is_never_given_the_default)
{
    directory d;
    d.add_partner("contoso.test", {}, {});
    d.set_default_partner(default_terms());
    ASSERT_NE(d.find_partner("stranger.test"), nullptr);
    d.speak_for_every_other_domain();
    EXPECT_EQ(d.find_partner("stranger.test"), nullptr);
    ASSERT_NE(d.find_partner("contoso.test"), nullptr);
    EXPECT_TRUE(d.find_partner("contoso.test")->listed);
}

TEST(directory, same_partner_joins_a_listed_partners_domains_and_no_two_unlisted_ones)
{
    auto d = sample();
    d.set_default_partner(default_terms());
    auto const& fabrikam = *d.find_partner("fabrikam.test");
    auto const& adatum = *d.find_partner("adatum.test");
    auto const& unlisted = *d.find_partner("stranger.test");

    EXPECT_TRUE(same_partner(fabrikam, "fabrikam.test", fabrikam, "chat.fabrikam.test"));
    EXPECT_TRUE(same_partner(fabrikam, "chat.fabrikam.test", fabrikam, "fabrikam.test"));
    EXPECT_FALSE(same_partner(fabrikam, "fabrikam.test", adatum, "adatum.test"));

    EXPECT_TRUE(same_partner(unlisted, "stranger.test", unlisted, "stranger.test"));
    EXPECT_FALSE(same_partner(unlisted, "stranger.test", unlisted, "other.example"));
    EXPECT_FALSE(same_partner(unlisted, "stranger.test", unlisted, "muc.stranger.test"));

    EXPECT_FALSE(same_partner(fabrikam, "fabrikam.test", unlisted, "stranger.test"));
    EXPECT_FALSE(same_partner(unlisted, "stranger.test", fabrikam, "fabrikam.test"));
    // The domain alone does not make it one: the terms differ.
    EXPECT_FALSE(same_partner(unlisted, "fabrikam.test", fabrikam, "fabrikam.test"));
    EXPECT_FALSE(same_partner(fabrikam, "fabrikam.test", unlisted, "fabrikam.test"));
}

TEST(directory, partner_name_is_the_primary_domain_or_the_unlisted_domain_itself)
{
    auto d = sample();
    d.set_default_partner(default_terms());
    EXPECT_EQ(partner_name(*d.find_partner("chat.fabrikam.test"), "chat.fabrikam.test"), "fabrikam.test");
    EXPECT_EQ(partner_name(*d.find_partner("stranger.test"), "stranger.test"),
              "stranger.test (unlisted, [default_partner])");
    EXPECT_EQ(partner_name(*d.find_partner("other.example"), "other.example"),
              "other.example (unlisted, [default_partner])");
}

}  // namespace
