#include "daemon/contacts_cli.hpp"

#include "conf/config.hpp"
#include "contacts/sqlite_store.hpp"
#include "protocol/jid.hpp"

#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
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

void append_utf8(std::string& out, unsigned code)
{
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
}

/// Four hex digits at `at`.
bool read_hex4(std::string_view text, std::size_t at, unsigned& code)
{
    if (at + 4 > text.size())
        return false;
    code = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
        char const c = text[k];
        int const d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        code = code * 16 + static_cast<unsigned>(d);
    }
    return true;
}

/// A JSON string starting at text[i] (a quote), escapes decoded (RFC 8259 §7);
/// `i` ends after the closing quote.
bool read_json_string(std::string_view text, std::size_t& i, std::string& value)
{
    if (i >= text.size() || text[i] != '"')
        return false;
    for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] != '\\') {
            value += text[i];
            continue;
        }
        if (++i >= text.size())
            return false;
        char const e = text[i];
        if (e == '"' || e == '\\' || e == '/')
            value += e;
        else if (e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')
            value += e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : '\t';
        else if (e != 'u')
            return false;  // not a JSON escape
        else {
            unsigned code = 0, low = 0;
            if (!read_hex4(text, i + 1, code))
                return false;
            i += 4;
            if (code >= 0xD800 && code < 0xDC00) {  // a surrogate pair
                if (i + 2 >= text.size() || text[i + 1] != '\\' || text[i + 2] != 'u' || !read_hex4(text, i + 3, low) ||
                    low < 0xDC00 || low > 0xDFFF)
                    return false;
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            } else if (code >= 0xDC00 && code < 0xE000) {
                return false;
            }
            append_utf8(value, code);
        }
    }
    return i++ < text.size();
}

/// The export format: [{"local": "...", "remote": "...", "subscription": "..."}, ...].
/// A small reader for exactly that shape (strings only, no escapes but \" and \\).
bool read_json(std::string const& file, std::string const& text, std::vector<entry>& out)
{
    std::size_t i = 0;
    auto fail = [&](std::string const& what) {
        std::cerr << file << ": offset " << i << ": " << what << "\n";
        return false;
    };
    auto skip = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
            ++i;
    };
    auto expect = [&](char c) {
        skip();
        if (i >= text.size() || text[i] != c)
            return false;
        ++i;
        return true;
    };
    auto string = [&](std::string& value) {
        skip();
        return read_json_string(text, i, value);
    };
    if (!expect('['))
        return fail("expected a JSON array of {\"local\", \"remote\", \"subscription\"} objects");
    bool ok = true;
    for (unsigned n = 1;; ++n) {
        skip();
        if (expect(']'))
            break;
        if (n > 1 && !expect(','))
            return fail("expected ',' or ']'");
        if (!expect('{'))
            return fail("expected '{'");
        std::map<std::string, std::string> fields;
        while (!expect('}')) {
            std::string key, value;
            if ((!fields.empty() && !expect(',')) || !string(key) || !expect(':') || !string(value))
                return fail("expected \"key\": \"string\" pairs");
            fields[key] = value;
        }
        ok = make_entry(fields["local"], fields["remote"], fields["subscription"],
                        file + ": entry " + std::to_string(n), out) && ok;
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
    auto quoted = [](std::string const& s) {
        std::string q = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\')
                q += '\\';
            q += c;
        }
        return q + "\"";
    };
    std::cout << "[";
    for (std::size_t n = 0; n < rows.size(); ++n)
        std::cout << (n ? ",\n " : "\n ") << "{\"local\": " << quoted(rows[n].first.local)
                  << ", \"remote\": " << quoted(rows[n].first.remote) << ", \"subscription\": \""
                  << subscription_word(rows[n].second) << "\"}";
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

int contacts_command(std::string const& config_file, std::string const& action, std::string const& argument)
{
    auto loaded = conf::load_file(config_file);
    if (!loaded.ok()) {
        for (auto const& d : loaded.findings)
            std::cerr << d.format() << "\n";
        return 1;
    }
    std::unique_ptr<relationship_store> store;
    try {
        store = contacts::open_sqlite_store(loaded.cfg->gateway.state_dir / "relationships.sqlite3");
    } catch (store_error const& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    if (action == "list") {
        print(store->all());
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
