#include "routing/runtime.hpp"

#include "contacts/postgres_store.hpp"
#include "contacts/sqlite_store.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace fedgate::routing {

using network::connection_options;
using network::tls_contexts;

connection_options s2s_options(conf::limit_settings const& l, std::string label)
{
    return {.label = std::move(label),
            .limits = {.max_stanza_bytes = l.max_stanza_bytes,
                       .max_depth = l.max_depth,
                       .max_attributes = l.max_attributes,
                       .max_header_bytes = l.max_header_bytes,
                       .max_header_attributes = l.max_header_attributes},
            .negotiation_timeout = l.negotiation_timeout,
            .idle_timeout = l.idle_timeout,
            .backlog_high = l.write_backlog_bytes};
}

dns::settings dns_settings_of(conf::dns_settings const& d)
{
    dns::settings s;
    for (auto const& server : d.servers)
        s.servers.emplace_back(server.host, server.port);
    s.timeout = d.timeout;
    s.attempts = d.attempts;
    return s;
}

negotiation::directory internal_directory(conf::config const& c)
{
    negotiation::directory d;
    for (auto const& p : c.partners) {
        d.add_local_domain(p.domain);
        for (auto const& extra : p.additional_domains)
            d.add_local_domain(extra);
    }
    std::vector<std::string> others;
    for (std::size_t i = 1; i < c.local_domains.size(); ++i)
        others.push_back(c.local_domains[i].name);
    // No XEP-0288 there: each side opens its own stream, as the internal
    // server would with any remote domain; acknowledgements when it offers them.
    if (!c.local_domains.empty())
        d.add_partner(c.local_domains.front().name, others, c.internal.negotiation, policy::partner_type::federated,
                      {.stream_management = true, .bidi = false});
    // Open federation: fedgate speaks there for whichever remote domain a
    // local user writes to.
    if (c.default_partner)
        d.speak_for_every_other_domain();
    return d;
}

file_stamp stamp_of(std::filesystem::path const& file)
{
    std::error_code ec;
    auto const time = std::filesystem::last_write_time(file, ec);
    if (ec)
        return {};
    auto const size = std::filesystem::file_size(file, ec);
    return {.written = time, .size = ec ? 0 : size, .exists = true};
}

std::unique_ptr<runtime> build_runtime(conf::config cfg, boost::asio::any_io_executor executor, bool open_store)
{
    auto rt = std::make_unique<runtime>();
    rt->cfg = std::move(cfg);
    auto const& c = rt->cfg;
    for (auto const& d : c.local_domains)
        rt->domains.add_local_domain(d.name);
    for (auto const& p : c.partners) {
        rt->domains.add_partner(p.domain, p.additional_domains, p.negotiation, p.type,
                                {.stream_management = p.stream_management, .bidi = p.bidi}, p.rate_limit);
    }
    if (auto const& open = c.default_partner) {
        auto const& t = open->terms;
        rt->domains.set_default_partner({.domain = {},  // set_default_partner names and judges it
                                         .settings = t.negotiation,
                                         .methods = {},
                                         .type = t.type,
                                         .extensions = {.stream_management = t.stream_management, .bidi = t.bidi},
                                         .rate_limit = t.rate_limit});
    }

    if (!c.gateway.dialback_secret_file.empty()) {
        auto text = conf::read_secret(c.gateway.dialback_secret_file);
        if (!text)
            throw std::runtime_error{c.gateway.dialback_secret_file.path.string() + ": cannot read the dialback secret"};
        rt->dialback = negotiation::dialback_secret::from_text(*text);
        for (auto const& accepted : c.gateway.dialback_accepted_secret_files) {
            auto other = conf::read_secret(accepted);
            if (!other)
                throw std::runtime_error{accepted.path.string() + ": cannot read the accepted dialback secret"};
            rt->dialback.accept(negotiation::dialback_secret::from_text(*other));
        }
    } else {
        spdlog::warn("no [gateway] dialback_secret_file: dialback keys are random per start, so other instances "
                     "cannot answer for this one");
    }
    bool const s2s = c.internal.mode == conf::internal_settings::link_mode::s2s;
    auto internal_secret = conf::read_secret(c.internal.secret_file);
    if (!internal_secret || internal_secret->empty())
        throw std::runtime_error{c.internal.secret_file.path.string() +
                                 (s2s ? ": cannot read the internal dialback secret" : ": cannot read the component secret")};
    if (s2s) {
        rt->internal_domains = internal_directory(c);
        rt->internal_dialback = negotiation::dialback_secret::from_text(*internal_secret);
    } else {
        rt->component_secret = std::move(*internal_secret);
    }

    if (!c.blocklist.file.empty()) {
        rt->blocklist_stamp = stamp_of(c.blocklist.file.path);
        auto loaded = conf::read_blocklist(c.blocklist.file.path);
        if (!loaded.list) {
            for (auto const& finding : loaded.findings)
                if (finding.level == conf::diagnostic::severity::error)
                    throw std::runtime_error{finding.format()};
            throw std::runtime_error{c.blocklist.file.path.string() + ": cannot read the blocklist"};
        }
        rt->blocklist = std::make_shared<policy::blocklist const>(std::move(*loaded.list));
    }
    rt->sasl_server = negotiation::make_cyrus_sasl_server();
    rt->sasl_client = negotiation::make_cyrus_sasl_client();
    rt->tls = tls_contexts::load(c.tls, c.local_domains);
    rt->resolver = std::make_unique<dns::resolver>(executor, dns_settings_of(c.dns));
    if (!open_store)
        return rt;
    if (c.store.backend == conf::store_settings::kind::postgresql)
        rt->store_conninfo = conf::store_conninfo(c.store).value_or("");
    // Completions of store writes (and, shared, the news of the database) come
    // back to the event loop.
    rt->relationships = open_relationship_store(
        c, [executor](std::function<void()> f) { boost::asio::post(executor, std::move(f)); },
        [up = rt->store_up](bool now_up, std::string const& text) {
            *up = now_up;
            spdlog::log(now_up ? spdlog::level::info : spdlog::level::warn, "relationship store: {}", text);
        });
    return rt;
}

std::unique_ptr<contacts::relationship_store>
open_relationship_store(conf::config const& cfg, contacts::relationship_store::dispatcher dispatch,
                        std::function<void(bool up, std::string const& text)> report)
{
    auto const& s = cfg.store;
    if (s.backend == conf::store_settings::kind::sqlite)
        return contacts::open_sqlite_store(conf::sqlite_store_file(cfg.gateway), std::move(dispatch));
    auto conninfo = conf::store_conninfo(s);
    if (!conninfo)
        throw std::runtime_error{s.conninfo_file.path.string() + ": cannot read the PostgreSQL connection string"};
    return contacts::open_postgres_store(
        {.conninfo = *conninfo,
         .write_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(s.write_deadline),
         .report = std::move(report)},
        std::move(dispatch));
}

}  // namespace fedgate::routing
