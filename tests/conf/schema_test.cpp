// conf/schema.cpp is the loader's table of keys: what it accepts, what it
// refuses, and what fedgate.toml(5) must document (tests/docs). These tests hold
// the table and the loader to each other in both directions.
#include "conf/config.hpp"
#include "conf/schema.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using fedgate::conf::diagnostic;
using fedgate::conf::schema;
using fedgate::conf::section_schema;

/// A valid configuration with every section, so that the loader reads every
/// key of each (it asks for all of them whether they are present or not).
/// [internal] is in s2s mode, which [default_partner] needs.
std::string const every_section = R"([gateway]
s2s_listen = ["192.0.2.1:5269"]
[[local_domain]]
name = "contoso.test"
certificate = "contoso.crt"
key = "contoso.key"
[internal]
mode = "s2s"
secret_file = "internal.secret"
listen = ["127.0.0.2:5269"]
[[partner]]
domain = "fabrikam.test"
type = "federated"
[default_partner]
[tls]
[dns]
[limits]
[store]
[blocklist]
[log]
[metrics]
[control]
)";

/// every_section with `line` (`key = ...`) added as the first line of
/// `section`, in place of any line that sets the same key; `at` is set to the
/// added line's number.
std::string with_line(section_schema const& section, std::string const& line, unsigned& at)
{
    auto header = written(section) + "\n";
    auto text = every_section;
    auto const key = line.substr(0, line.find(' ') + 3);  // "key = "
    if (auto old = text.find("\n" + key); old != std::string::npos)
        text.erase(old + 1, text.find('\n', old + 1) - old);
    auto const where = text.find(header);
    EXPECT_NE(where, std::string::npos) << header;
    at = 1;
    for (std::size_t i = 0; i < where + header.size(); ++i)
        at += text[i] == '\n';
    return text.insert(where + header.size(), line + "\n");
}

fedgate::conf::load_result parse(std::string const& text)
{
    return fedgate::conf::parse(text, "t.toml", "/etc/fedgate");
}

TEST(schema, the_configuration_with_every_section_is_valid)
{
    // Would throw if the loader asked for a key the schema does not list.
    auto result = parse(every_section);
    EXPECT_TRUE(result.ok());
}

TEST(schema, the_loader_reads_every_key_the_schema_lists)
{
    // A table where a value belongs is wrong for every key: a key the loader
    // reads gets a type error at its line, one it ignored would get nothing.
    for (auto const& section : schema()) {
        for (auto key : section.keys) {
            unsigned line = 0;
            auto result = parse(with_line(section, std::string{key} + " = {}", line));
            bool read = false;
            for (auto const& d : result.findings)
                read = read || (d.level == diagnostic::severity::error && d.line == line &&
                                d.message.find("unknown key") == std::string::npos &&
                                d.message.find("'" + std::string{key} + "'") != std::string::npos);
            EXPECT_TRUE(read) << written(section) << " " << key << " is listed in conf/schema.cpp but not read";
        }
    }
}

TEST(schema, a_key_the_schema_does_not_list_is_refused_in_every_section)
{
    for (auto const& section : schema()) {
        unsigned line = 0;
        auto result = parse(with_line(section, "no_such_setting = 1", line));
        ASSERT_FALSE(result.findings.empty()) << written(section);
        EXPECT_EQ(result.findings.front().line, line);
        EXPECT_EQ(result.findings.front().message,
                  "unknown key 'no_such_setting' in " + written(section) +
                      "; remove it (fedgate.toml(5) lists every setting)");
    }
}

TEST(schema, a_section_it_does_not_list_is_refused_with_a_suggestion)
{
    auto result = parse(every_section + "[[partners]]\ndomain = \"x.test\"\n");
    ASSERT_FALSE(result.findings.empty());
    EXPECT_EQ(result.findings.front().message, "unknown section [[partners]]; did you mean [[partner]]?");
}

TEST(schema, schema_of_an_unknown_section_is_a_bug)
{
    EXPECT_THROW((void)fedgate::conf::schema_of("gatway"), std::logic_error);
    EXPECT_EQ(written(fedgate::conf::schema_of("partner")), "[[partner]]");
    EXPECT_EQ(written(fedgate::conf::schema_of("store")), "[store]");
}

}  // namespace
