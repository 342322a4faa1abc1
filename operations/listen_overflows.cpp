#include "operations/listen_overflows.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace fedgate::operations {

namespace {

std::vector<std::string_view> words(std::string_view line)
{
    std::vector<std::string_view> out;
    while (!line.empty()) {
        auto const start = line.find_first_not_of(' ');
        if (start == std::string_view::npos)
            break;
        line.remove_prefix(start);
        auto const end = std::min(line.find(' '), line.size());
        out.push_back(line.substr(0, end));
        line.remove_prefix(end);
    }
    return out;
}

std::optional<std::uint64_t> read_counter(std::filesystem::path const& path)
{
    std::ifstream in{path};
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return listen_overflows_in(text.str());
}

}  // namespace

std::optional<std::uint64_t> listen_overflows_in(std::string_view netstat)
{
    // Two lines per protocol: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...".
    std::vector<std::string_view> names;
    while (!netstat.empty()) {
        auto const end = std::min(netstat.find('\n'), netstat.size());
        auto const line = netstat.substr(0, end);
        netstat.remove_prefix(std::min(end + 1, netstat.size()));
        if (!line.starts_with("TcpExt:"))
            continue;
        auto fields = words(line.substr(7));
        if (names.empty()) {
            names = std::move(fields);
            continue;
        }
        for (std::size_t i = 0; i < names.size() && i < fields.size(); ++i) {
            if (names[i] != "ListenOverflows")
                continue;
            std::uint64_t value = 0;
            auto const [ptr, ec] = std::from_chars(fields[i].data(), fields[i].data() + fields[i].size(), value);
            if (ec != std::errc{} || ptr != fields[i].data() + fields[i].size())
                return std::nullopt;
            return value;
        }
        return std::nullopt;
    }
    return std::nullopt;
}

listen_overflow_watch::listen_overflow_watch(std::filesystem::path netstat)
    : path_{std::move(netstat)}, last_{read_counter(path_)}
{
}

std::uint64_t listen_overflow_watch::new_overflows()
{
    auto const now = read_counter(path_);
    if (!now)
        return 0;
    // A counter that went down (a namespace moved under us): start again.
    auto const gained = last_ && *now >= *last_ ? *now - *last_ : 0;
    last_ = now;
    return gained;
}

}  // namespace fedgate::operations
