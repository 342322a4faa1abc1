// The blocklist file (one domain or *.suffix a line) and the [blocklist]
// section: what is accepted, made canonical, refused at its own line, and
// reported by check-config.
#include "conf/config.hpp"
#include "conf/report.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace {

using namespace fedgate::conf;

std::vector<std::string> messages(std::vector<diagnostic> const& findings)
{
    std::vector<std::string> out;
    for (auto const& d : findings)
        out.push_back(d.format());
    return out;
}

TEST(blocklist_file, names_wildcards_comments_and_blank_lines)
{
    auto r = parse_blocklist("# spammers\n\nSpam.Example.\n  *.abuse.test   # the whole zone\n\r\n", "bl.txt");
    ASSERT_TRUE(r.list) << messages(r.findings).front();
    EXPECT_TRUE(r.findings.empty());
    EXPECT_EQ(r.list->exact_count(), 1u);
    EXPECT_EQ(r.list->suffix_count(), 1u);
    auto const* hit = r.list->match("spam.example", false);  // made canonical: lower case, no final dot
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->line, 3u);
    ASSERT_NE(r.list->match("x.abuse.test", false), nullptr);
    EXPECT_EQ(r.list->match("x.abuse.test", false)->line, 4u);
}

TEST(blocklist_file, an_internationalised_name_matches_its_canonical_form)
{
    auto r = parse_blocklist("BÜCHER.Example\n", "bl.txt");  // written in capitals: found in lower case
    ASSERT_TRUE(r.list);
    EXPECT_NE(r.list->match("bücher.example", false), nullptr);
    EXPECT_EQ(r.list->match("BÜCHER.Example", false), nullptr) << "the list holds canonical names only";
}

TEST(blocklist_file, each_wrong_line_is_an_error_at_that_line_and_nothing_is_taken)
{
    auto r = parse_blocklist("good.example\ntwo words.example\nspam.*.example\n*\nbad..example\n", "bl.txt");
    EXPECT_FALSE(r.list);
    auto const m = messages(r.findings);
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[0], "bl.txt:2: error: \"two words.example\" holds a space; write one domain a line");
    EXPECT_TRUE(m[1].starts_with("bl.txt:3: error: \"spam.*.example\": a wildcard is \"*.\" before a domain")) << m[1];
    EXPECT_TRUE(m[2].starts_with("bl.txt:4: error: \"*\"")) << m[2];
    EXPECT_TRUE(m[3].starts_with("bl.txt:5: error: \"bad..example\"")) << m[3];
}

TEST(blocklist_file, a_repeated_entry_is_a_warning_naming_the_first)
{
    auto r = parse_blocklist("spam.example\n*.spam.example\nSPAM.example\n", "bl.txt");
    ASSERT_TRUE(r.list);
    auto const m = messages(r.findings);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0], "bl.txt:3: warning: \"SPAM.example\" repeats line 1");
}

TEST(blocklist_file, an_unreadable_file_says_so)
{
    auto r = read_blocklist("/nonexistent/blocklist.txt");
    EXPECT_FALSE(r.list);
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_NE(r.findings[0].format().find("/nonexistent/blocklist.txt: error: cannot read the blocklist"),
              std::string::npos);
}

constexpr char const* base = R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[[partner]]
domain = "fabrikam.test"
type = "federated"
[internal]
secret_file = "s"
)";

TEST(blocklist_section, file_relative_to_the_configuration_and_its_refresh)
{
    auto r = parse(std::string{base} + "[blocklist]\nfile = \"blocked.txt\"\nrefresh_seconds = 5\n", "t.toml",
                   "/etc/fedgate");
    ASSERT_TRUE(r.ok()) << messages(r.findings).front();
    EXPECT_EQ(r.cfg->blocklist.file.path, "/etc/fedgate/blocked.txt");
    EXPECT_EQ(r.cfg->blocklist.refresh, std::chrono::seconds{5});
    EXPECT_NE(check_config_report(*r.cfg, 0).find("blocklist:          /etc/fedgate/blocked.txt, read again within 5 s "
                                                  "of a change"),
              std::string::npos);
}

TEST(blocklist_section, absent_means_no_blocklist_and_refresh_without_file_is_refused)
{
    auto none = parse(base, "t.toml", "/etc/fedgate");
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none.cfg->blocklist.file.empty());
    auto r = parse(std::string{base} + "[blocklist]\nrefresh_seconds = 5\n", "t.toml", "/etc/fedgate");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(messages(r.findings).front(), "t.toml:12: error: [blocklist] has refresh_seconds but no file; name the "
                                             "file (one domain or *.suffix a line)");
}

TEST(blocklist_section, check_files_reports_the_blocklist_at_its_own_line)
{
    auto const dir = std::filesystem::temp_directory_path() / "fedgate-blocklist-test";
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "blocked.txt"} << "ok.example\n\nnot a domain\n";
    auto r = parse(std::string{base} + "[blocklist]\nfile = \"blocked.txt\"\n", "t.toml", dir);
    ASSERT_TRUE(r.ok());
    diagnostics out{"t.toml"};
    check_files(*r.cfg, out);
    bool found = false;
    for (auto const& d : out.items())
        found = found || d.format() == (dir / "blocked.txt").string() +
                                           ":3: error: \"not a domain\" holds a space; write one domain a line";
    EXPECT_TRUE(found);
    std::filesystem::remove_all(dir);
}

}  // namespace
