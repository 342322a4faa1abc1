// The manual against the code: every section and key the configuration loader
// knows (conf/schema.cpp, the table it refuses unknown keys with) is documented
// in fedgate.toml(5) under its section, and every metric family
// (operations/metric_names.hpp) in fedgate(8). CMake passes the paths.
#include "conf/schema.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read(char const* path)
{
    std::ifstream in{path};
    EXPECT_TRUE(in) << "cannot read " << path;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(std::string const& text)
{
    std::vector<std::string> lines;
    std::stringstream in{text};
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

/// The lines of the subsection `.SS heading` (up to the next .SS or .SH), or
/// nothing when the page has no such subsection.
std::vector<std::string> subsection(std::vector<std::string> const& page, std::string const& heading)
{
    std::vector<std::string> body;
    bool inside = false;
    for (auto const& line : page) {
        if (line.starts_with(".SS ") || line.starts_with(".SH ")) {
            if (inside)
                break;
            inside = line == ".SS " + heading || line == ".SS \"" + heading + "\"";
            continue;
        }
        if (inside)
            body.push_back(line);
    }
    return body;
}

/// Whether `name` is the tag of a .TP paragraph in `lines`: ".TP" followed by
/// ".B name" or ".BR name ..." (the way both pages write a setting or a metric).
bool has_tag(std::vector<std::string> const& lines, std::string const& name)
{
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (lines[i - 1] != ".TP")
            continue;
        auto const& tag = lines[i];
        if (tag == ".B " + name || tag.starts_with(".B " + name + " ") || tag.starts_with(".BR " + name + " "))
            return true;
    }
    return false;
}

/// What the page lacks of the schema: "[section]" or "[section] key", one each.
std::vector<std::string> undocumented_keys(std::string const& page_text)
{
    auto const page = lines_of(page_text);
    std::vector<std::string> missing;
    for (auto const& section : fedgate::conf::schema()) {
        auto const heading = written(section);
        auto const body = subsection(page, heading);
        if (body.empty()) {
            missing.push_back(heading);
            continue;
        }
        for (auto key : section.keys)
            if (!has_tag(body, std::string{key}))
                missing.push_back(heading + " " + std::string{key});
    }
    return missing;
}

std::string joined(std::vector<std::string> const& v)
{
    std::string out;
    for (auto const& s : v)
        out += "\n  " + s;
    return out;
}

TEST(man_pages, the_check_finds_a_key_or_a_section_the_page_leaves_out)
{
    // A page that documents [log] level under the wrong section and leaves
    // everything else out: each section is missing, and level is not in [log].
    auto const missing = undocumented_keys(".TH X 5\n.SS [metrics]\n.TP\n.B level\nText.\n");
    EXPECT_NE(std::find(missing.begin(), missing.end(), "[gateway]"), missing.end()) << joined(missing);
    EXPECT_NE(std::find(missing.begin(), missing.end(), "[metrics] listen"), missing.end()) << joined(missing);
    EXPECT_EQ(std::find(missing.begin(), missing.end(), "[log] level"), missing.end()) << joined(missing);
    EXPECT_NE(std::find(missing.begin(), missing.end(), "[log]"), missing.end()) << joined(missing);
    // A key mentioned in running text is not documented.
    auto const mentioned = undocumented_keys(".SS [log]\nSet level to debug.\n");
    EXPECT_NE(std::find(mentioned.begin(), mentioned.end(), "[log] level"), mentioned.end()) << joined(mentioned);
}

TEST(man_pages, fedgate_toml_5_documents_every_key_the_loader_knows)
{
    auto const missing = undocumented_keys(read(FEDGATE_TOML_PAGE));
    EXPECT_TRUE(missing.empty()) << FEDGATE_TOML_PAGE << " has no .SS subsection or no .TP/.B entry for:"
                                 << joined(missing) << "\n(the loader's keys are in conf/schema.cpp)";
}

TEST(man_pages, fedgate_8_documents_every_metric_family)
{
    // The names as operations/metric_names.hpp defines them, quoted.
    auto const source = read(FEDGATE_METRIC_NAMES);
    std::regex const quoted{"\"(fedgate_[a-z_]+)\""};
    std::vector<std::string> names;
    for (auto it = std::sregex_iterator{source.begin(), source.end(), quoted}; it != std::sregex_iterator{}; ++it)
        names.push_back((*it)[1]);
    ASSERT_GE(names.size(), 20U) << "fewer metric names than expected in " << FEDGATE_METRIC_NAMES;

    auto const page = lines_of(read(FEDGATE_MAN_PAGE));
    auto body = subsection(page, "Counters");
    auto const gauges = subsection(page, "Gauges");
    body.insert(body.end(), gauges.begin(), gauges.end());
    std::vector<std::string> missing;
    for (auto const& name : names)
        if (!has_tag(body, name))
            missing.push_back(name);
    EXPECT_TRUE(missing.empty()) << FEDGATE_MAN_PAGE << " METRICS has no .TP/.B entry for:" << joined(missing);
}

}  // namespace
