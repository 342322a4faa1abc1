// Loads the configurations in tests/data/configs/ the way `fedgate check-config` does
// and asserts the exact finding (line and message) of every broken one. The files
// they name (certificates, keys, secrets) are made once per run by
// scripts/make-demo-certs in a temporary folder, beside a copy of each configuration.
#include "conf/config.hpp"
#include "conf/report.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using fedgate::conf::diagnostic;

fs::path source_dir()
{
    char const* dir = std::getenv("FEDGATE_SOURCE_DIR");
    return dir ? fs::path{dir} : fs::current_path().parent_path().parent_path();
}

class config_files : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        char pattern[] = "/tmp/fedgate-conf-test-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        work_ = pattern;
        auto command = "bash '" + (source_dir() / "scripts/make-demo-certs").string() + "' '" +
                       (work_ / "certs").string() + "' contoso.test other.test >/dev/null";
        ASSERT_EQ(std::system(command.c_str()), 0) << command;
        std::ofstream{work_ / "certs/short.secret"} << "abc\n";
    }
    static void TearDownTestSuite() { fs::remove_all(work_); }

    /// Copies tests/data/configs/NAME.toml beside the generated files and loads it.
    static fedgate::conf::load_result load(std::string const& name)
    {
        auto copy = work_ / (name + ".toml");
        fs::copy_file(source_dir() / "tests/data/configs" / (name + ".toml"), copy,
                      fs::copy_options::overwrite_existing);
        return fedgate::conf::load_file(copy);
    }

    /// `text` with "{dir}" replaced by the folder the configurations were copied to.
    static std::string in_work_dir(std::string text)
    {
        for (auto at = text.find("{dir}"); at != std::string::npos; at = text.find("{dir}"))
            text.replace(at, 5, work_.string());
        return text;
    }

    static inline fs::path work_;
};

struct broken_config {
    char const* name;
    std::uint32_t line;
    char const* message;
};

// clang-format off
broken_config const broken_configs[] = {
    {"toml_syntax", 11, "this is not valid TOML: Error while parsing value: could not determine value type; "
                        "write text in double quotes, e.g. type = \"federated\""},
    {"unknown_key", 12, "unknown key 'tsl' in [[partner]]; did you mean 'tls'?"},
    {"unknown_section", 9, "unknown section [gatway]; did you mean [gateway]?"},
    {"wrong_type", 12, "'dialback' in [[partner]] must be true or false (without quotes), not a string"},
    {"missing_type", 9, "[[partner]] is missing 'type', which is required; add type = \"federated\", "
                        "\"public_verified\" or \"public_unverified\""},
    {"invalid_enum", 12, "'tls' in [[partner]] is \"mandatory\", which is not a valid value; use \"required\", "
                         "\"optional\" or \"not_supported\""},
    {"invalid_domain", 10, "'domain' in [[partner]]: \"fabri kam.test\" contains ' ', but domain labels hold only "
                           "letters, digits and hyphens; write a domain name such as \"fabrikam.com\""},
    {"duplicate_partner_domain", 15, "domain \"fabrikam.test\" already belongs to the partner at line 10; "
                                     "each domain may belong to one partner only"},
    {"partner_is_local", 10, "partner domain \"contoso.test\" is also a [[local_domain]] (line 2); a domain is "
                             "either ours or a partner's"},
    {"missing_certificate", 3, "cannot read certificate file \"{dir}/certs/missing.crt\": No such file or directory; "
                               "check the path (relative paths start at the configuration file's folder)"},
    {"key_mismatch", 4, "key file \"{dir}/certs/other.test.key\" does not match certificate "
                        "\"{dir}/certs/contoso.test.crt\" of local domain \"contoso.test\"; use the private key the "
                        "certificate was issued for"},
    {"sasl_without_tls", 12, "partner \"fabrikam.test\": SASL requires TLS, and TLS is not supported: set tls to "
                            "\"required\" or \"optional\", or set sasl to \"not_supported\""},
    {"no_auth_method", 13, "partner \"fabrikam.test\": SASL or Dialback must be enabled: set sasl to \"required\" or "
                          "\"optional\" (with TLS), or set dialback to true"},
    {"short_secret", 7, "component secret file \"{dir}/certs/short.secret\" holds 3 characters, fewer than 16; create "
                        "a strong one with: head -c 32 /dev/urandom | base64 > {dir}/certs/short.secret"},
    {"state_dir_missing", 2, "state_dir \"{dir}/nowhere\": No such file or directory; the relationship store "
                             "lives there: create it for the user fedgate runs as (mkdir -m 750 {dir}/nowhere; the "
                             "systemd unit's StateDirectory= makes /var/lib/fedgate), or set state_dir in [gateway]"},
    {"state_dir_not_a_folder", 2, "state_dir \"{dir}/certs/ca.crt\" is not a folder; name the folder for the "
                                  "relationship store"},
    {"no_local_domain", 0, "no [[local_domain]] is configured; add one block per domain that fedgate serves: "
                           "[[local_domain]] with name = \"contoso.com\", certificate = "
                           "\"/etc/fedgate/contoso.com.crt\" and key = \"/etc/fedgate/contoso.com.key\""},
    {"bad_listen_port", 2, "'s2s_listen' in [gateway]: \"[::]:99999\" has port \"99999\"; the port must be between 1 "
                           "and 65535"},
    {"stanza_limit_too_small", 14, "'max_stanza_bytes' in [limits] is 4096; it must be between 10000 and 16777216 "
                                   "(RFC 6120 §13.12 requires at least 10000)"},
    {"local_domain_single_brackets", 1, "'local_domain' must be written [[local_domain]] (double brackets), one "
                                        "block per domain"},
    {"missing_internal", 0, "the [internal] section is missing; add it with mode = \"component\", host, port and "
                            "secret_file (the internal server's component secret)"},
};
// clang-format on

class broken : public config_files, public ::testing::WithParamInterface<broken_config> {};

TEST_P(broken, is_refused_with_its_file_line_and_fix)
{
    auto const& c = GetParam();
    auto result = load(c.name);
    EXPECT_FALSE(result.ok());
    std::vector<diagnostic> errors;
    for (auto const& d : result.findings)
        if (d.level == diagnostic::severity::error)
            errors.push_back(d);
    ASSERT_EQ(errors.size(), 1u) << (errors.empty() ? "no error" : errors[1].format());
    EXPECT_EQ(errors[0].file, (work_ / (std::string{c.name} + ".toml")).string());
    EXPECT_EQ(errors[0].line, c.line);
    EXPECT_EQ(errors[0].message, in_work_dir(c.message));
}

std::string config_name(::testing::TestParamInfo<broken_config> const& c)
{
    return c.param.name;
}
INSTANTIATE_TEST_SUITE_P(tests_data_configs, broken, ::testing::ValuesIn(broken_configs), config_name);

TEST_F(config_files, minimal_configuration_is_valid_and_takes_the_defaults)
{
    auto result = load("valid_minimal");
    ASSERT_TRUE(result.ok()) << result.findings.front().format();
    EXPECT_TRUE(result.findings.empty()) << result.findings.front().format();
    auto const& cfg = *result.cfg;
    ASSERT_EQ(cfg.local_domains.size(), 1u);
    EXPECT_EQ(cfg.local_domains[0].certificate.path, work_ / "certs/contoso.test.crt");
    ASSERT_EQ(cfg.partners.size(), 1u);
    auto const& p = cfg.partners[0];
    EXPECT_EQ(p.negotiation, (fedgate::policy::negotiation_settings{}));
    EXPECT_EQ(fedgate::policy::describe(p.policy.applied()), "SASL over TLS, TLS dialback");
    EXPECT_EQ(cfg.gateway.s2s_listen.size(), 2u);
    EXPECT_EQ(cfg.gateway.s2s_listen[1].host, "::");
    EXPECT_EQ(cfg.gateway.s2s_listen[1].port, 5269);
    EXPECT_EQ(cfg.internal.port, 5347);
    EXPECT_EQ(cfg.limits.max_stanza_bytes, 256u * 1024u);
    EXPECT_EQ(p.domain, "fabrikam.test");
}

TEST_F(config_files, seed_warnings_keep_the_configuration_valid)
{
    auto result = load("optional_tls_warning");
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result.findings.size(), 1u);
    EXPECT_EQ(result.findings[0].level, diagnostic::severity::warning);
    EXPECT_EQ(result.findings[0].line, 12u);  // tls = "optional"
    EXPECT_EQ(result.findings[0].message, "partner \"fabrikam.test\": SASL requires TLS. Allowing TLS to be optional "
                                          "may result in failed session negotiations.");
}

TEST_F(config_files, secrets_are_read_without_surrounding_whitespace)
{
    std::ofstream{work_ / "padded.secret"} << "  0123456789abcdef\n\n";
    EXPECT_EQ(fedgate::conf::read_secret({work_ / "padded.secret", 1}), "0123456789abcdef");
    EXPECT_EQ(fedgate::conf::read_secret({work_ / "absent.secret", 1}), std::nullopt);
}

TEST_F(config_files, example_configuration_passes_with_demo_files)
{
    auto dir = work_ / "example";
    fs::create_directories(dir);
    auto command = "bash '" + (source_dir() / "scripts/make-demo-certs").string() + "' '" + (dir / "demo").string() +
                   "' >/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0);
    fs::copy_file(source_dir() / "conf/fedgate.example.toml", dir / "fedgate.toml");
    auto result = fedgate::conf::load_file(dir / "fedgate.toml");
    ASSERT_TRUE(result.ok()) << result.findings.front().format();
    EXPECT_TRUE(result.findings.empty()) << result.findings.front().format();

    auto const& cfg = *result.cfg;
    using fedgate::conf::partner_type;
    ASSERT_EQ(cfg.partners.size(), 3u);
    EXPECT_EQ(cfg.partners[0].type, partner_type::federated);
    EXPECT_EQ(cfg.partners[1].type, partner_type::public_verified);
    EXPECT_EQ(cfg.partners[2].type, partner_type::public_unverified);
    EXPECT_EQ(cfg.partners[0].additional_domains, (std::vector<std::string>{"corp.fabrikam.test", "it.fabrikam.test"}));

    auto report = fedgate::conf::check_config_report(cfg, 0);
    EXPECT_NE(report.find("fabrikam.test  (federated)"), std::string::npos) << report;
    EXPECT_NE(report.find("methods:            SASL over TLS\n"), std::string::npos) << report;
    EXPECT_NE(report.find("methods:            SASL over TLS, TLS dialback\n"), std::string::npos) << report;
    EXPECT_NE(report.find("methods:            TLS dialback, TCP dialback\n"), std::string::npos) << report;
}

}  // namespace
