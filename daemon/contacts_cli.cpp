#include "daemon/contacts_cli.hpp"

#include "conf/config.hpp"
#include "contacts/sqlite_store.hpp"
#include "routing/runtime.hpp"
#include "protocol/jid.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace fedgate::daemon {

using contacts::relationship;
using contacts::relationship_state;
using contacts::relationship_store;
using contacts::store_error;

namespace {

std::string subscription_word(relationship_state s)
{
    std::string word = s.to && s.from ? "both" : s.to ? "to" : s.from ? "from" : "none";
    return s.asked ? word + "+asked" : word;
}

std::optional<relationship_state> state_of_word(std::string_view word)
{
    relationship_state s;
    if (word.ends_with("+asked")) {
        s.asked = true;
        word.remove_suffix(6);
    }
    if (word == "both")
        s.to = s.from = true;
    else if (word == "to")
        s.to = true;
    else if (word == "from")
        s.from = true;
    else if (word == "asked")
        s.asked = true;
    else if (word != "none")
        return std::nullopt;
    return s.any() ? std::optional{s} : std::nullopt;
}

std::string bare(std::string_view text, std::string& why)
{
    auto j = protocol::jid::parse(text, &why);
    if (!j)
        return {};
    if (j->local().empty()) {
        why = "a user's JID (user@domain) is needed";
        return {};
    }
    return j->bare().to_string();
}

struct entry {
    relationship who;
    relationship_state state;
};

std::string trim(std::string s)
{
    auto const first = s.find_first_not_of(" \t\r\n");
    auto const last = s.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string{} : s.substr(first, last - first + 1);
}

/// One entry from its three fields; an error message names the position.
bool make_entry(std::string const& local, std::string const& remote, std::string const& subscription,
                std::string const& where, std::vector<entry>& out)
{
    std::string why;
    auto l = bare(local, why);
    if (l.empty()) {
        std::cerr << where << ": local JID '" << local << "': " << why << "\n";
        return false;
    }
    auto r = bare(remote, why);
    if (r.empty()) {
        std::cerr << where << ": remote JID '" << remote << "': " << why << "\n";
        return false;
    }
    auto s = state_of_word(subscription.empty() ? "both" : subscription);
    if (!s) {
        std::cerr << where << ": subscription '" << subscription
                  << "' is not one of both, to, from, asked, to+asked, from+asked\n";
        return false;
    }
    out.push_back({{l, r}, *s});
    return true;
}

/// "local,remote[,subscription]" per line; '#' comments and a header allowed.
bool read_csv(std::string const& file, std::istream& in, std::vector<entry>& out)
{
    std::string line;
    bool ok = true;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        line = trim(line);
        if (line.empty() || line.starts_with('#') || (number == 1 && line.starts_with("local,")))
            continue;
        std::vector<std::string> fields;
        std::stringstream split{line};
        for (std::string field; std::getline(split, field, ',');)
            fields.push_back(trim(field));
        if (fields.size() < 2 || fields.size() > 3) {
            std::cerr << file << ":" << number << ": expected local,remote[,subscription]\n";
            ok = false;
            continue;
        }
        ok = make_entry(fields[0], fields[1], fields.size() == 3 ? fields[2] : "", file + ":" + std::to_string(number),
                        out) && ok;
    }
    return ok;
}

constexpr std::string_view json_shape = "a JSON array of {\"local\", \"remote\", \"subscription\"} objects";

/// `key`'s value in an entry whose values are all strings, or "" when it is absent.
std::string field(boost::json::object const& fields, std::string_view key)
{
    auto const* value = fields.if_contains(key);
    return value ? std::string{value->get_string()} : std::string{};
}

/// The export format: [{"local": "...", "remote": "...", "subscription": "..."}, ...],
/// strings only, with every RFC 8259 escape. Other keys are ignored, a repeated key
/// keeps its last value, and what follows the array is not read.
bool read_json(std::string const& file, std::string const& text, std::vector<entry>& out)
{
    boost::json::parser parser;
    boost::system::error_code ec;
    auto const parsed = parser.write_some(text.data(), text.size(), ec);
    if (ec) {
        std::cerr << file << ": offset " << parsed << ": " << ec.message() << "; expected " << json_shape << "\n";
        return false;
    }
    auto const document = parser.release();
    auto const* entries = document.if_array();
    if (!entries) {
        std::cerr << file << ": expected " << json_shape << "\n";
        return false;
    }
    bool ok = true;
    for (std::size_t n = 1; n <= entries->size(); ++n) {
        auto const where = file + ": entry " + std::to_string(n);
        auto const* fields = (*entries)[n - 1].if_object();
        if (!fields) {
            std::cerr << where << ": expected an object of \"key\": \"string\" pairs\n";
            return false;
        }
        for (auto const& [key, value] : *fields) {
            if (!value.is_string()) {
                std::cerr << where << ": \"" << std::string_view{key}
                          << "\" is not a string; expected \"key\": \"string\" pairs\n";
                return false;
            }
        }
        ok = make_entry(field(*fields, "local"), field(*fields, "remote"), field(*fields, "subscription"), where,
                        out) && ok;
    }
    return ok;
}

void print(std::vector<std::pair<relationship, relationship_state>> const& rows)
{
    for (auto const& [who, state] : rows)
        std::cout << who.local << "\t" << who.remote << "\t" << subscription_word(state) << "\n";
}

void print_json(std::vector<std::pair<relationship, relationship_state>> const& rows)
{
    // One object a line. boost::json::serialize would quote the same way but write
    // the whole array without spaces or line breaks.
    auto quoted = [](std::string_view s) { return boost::json::serialize(boost::json::string_view{s}); };
    std::cout << "[";
    for (std::size_t n = 0; n < rows.size(); ++n)
        std::cout << (n ? ",\n " : "\n ") << "{\"local\": " << quoted(rows[n].first.local)
                  << ", \"remote\": " << quoted(rows[n].first.remote)
                  << ", \"subscription\": " << quoted(subscription_word(rows[n].second)) << "}";
    std::cout << "\n]\n";
}

int import_file(relationship_store& store, std::string const& file)
{
    std::ifstream in{file};
    if (!in) {
        std::cerr << file << ": cannot be read\n";
        return 1;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto const text = buffer.str();
    std::vector<entry> entries;
    auto const first = text.find_first_not_of(" \t\r\n");
    std::stringstream lines{text};
    bool const ok = first != std::string::npos && text[first] == '[' ? read_json(file, text, entries)
                                                                      : read_csv(file, lines, entries);
    if (!ok) {
        std::cerr << file << ": nothing was imported\n";
        return 1;
    }
    std::size_t added = 0;
    std::vector<std::pair<relationship, relationship_state>> states;
    for (auto const& e : entries) {
        added += !store.get(e.who).any();
        states.emplace_back(e.who, e.state);
    }
    if (auto failure = store.put_all(states); !failure.empty()) {
        std::cerr << store.where() << ": " << failure << "; nothing was imported\n";
        return 1;
    }
    std::cout << "imported " << entries.size() << " relationships (" << added << " new) into "
              << store.where() << "\n";
    return 0;
}

}  // namespace

namespace {

/// `fedgate contacts migrate`: state_dir's SQLite store into the PostgreSQL
/// store the configuration names, in one transaction.
int migrate(conf::config const& cfg)
{
    if (cfg.store.backend != conf::store_settings::kind::postgresql) {
        std::cerr << cfg.file.string() << ": [store] backend is \"sqlite\"; set backend = \"postgresql\" and its "
                  << "conninfo_file first: migrate copies " << conf::sqlite_store_file(cfg.gateway).string()
                  << " into that database\n";
        return 1;
    }
    auto const file = conf::sqlite_store_file(cfg.gateway);
    if (!std::filesystem::exists(file)) {
        std::cerr << "no SQLite store at " << file.string() << "; nothing to migrate\n";
        return 1;
    }
    try {
        auto from = contacts::open_sqlite_store(file);
        auto to = routing::open_relationship_store(cfg);
        // Into an empty store only: once instances have changed it, the old
        // file would undo their changes.
        if (auto there = to->all().size(); there > 0) {
            std::cerr << to->where() << " already holds " << there << " relationships; migrate copies into an empty "
                      << "store only (nothing was copied). To add relationships to it, use import\n";
            return 1;
        }
        auto rows = from->all();
        if (auto failure = to->put_all(rows); !failure.empty()) {
            std::cerr << to->where() << ": " << failure << "; nothing was copied\n";
            return 1;
        }
        std::cout << "copied " << rows.size() << " relationships from " << file.string() << " into " << to->where()
                  << "\n";
    } catch (std::exception const& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

int contacts_command(std::string const& config_file, std::string const& action, std::string const& argument)
{
    auto loaded = conf::load_file(config_file);
    if (!loaded.ok()) {
        for (auto const& d : loaded.findings)
            std::cerr << d.format() << "\n";
        return 1;
    }
    if (action == "migrate")
        return migrate(*loaded.cfg);
    std::unique_ptr<relationship_store> store;
    try {
        store = routing::open_relationship_store(*loaded.cfg);
    } catch (std::exception const& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    if (action == "list") {
        auto rows = store->all();
        if (rows.empty())  // on stderr: a script reading the list reads no line
            std::cerr << "the relationship store is empty: no local user has a relationship with a partner's user "
                         "(fedgate records them as users subscribe; `fedgate contacts import` adds existing ones)\n";
        print(rows);
    } else if (action == "export") {
        print_json(store->all());
    } else if (action == "show") {
        std::string why;
        auto local = bare(argument, why);
        if (local.empty()) {
            std::cerr << "'" << argument << "': " << why << "\n";
            return 2;
        }
        auto rows = store->all();
        std::erase_if(rows, [&](auto const& row) { return row.first.local != local; });
        if (rows.empty())
            std::cout << local << " has no relationships with partner users\n";
        print(rows);
    } else {
        return import_file(*store, argument);
    }
    return 0;
}

}  // namespace fedgate::daemon
