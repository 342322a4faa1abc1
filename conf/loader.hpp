#pragma once
/// @file
/// Internal to conf/: the state of one parse, shared by the section readers.

#include "conf/config.hpp"
#include "conf/table_reader.hpp"

#include <map>

namespace fedgate::conf::detail {

class loader {
public:
    loader(diagnostics& out, std::filesystem::path base_dir) : out_{out}, base_dir_{std::move(base_dir)} {}

    /// Reads the whole document into cfg_.
    void read(toml::table const& root);
    [[nodiscard]] config take() { return std::move(cfg_); }

private:
    // general_sections.cpp
    void read_gateway(toml::table const& t);
    void read_internal(toml::table const* t);  // internal_section.cpp
    /// [internal] in s2s mode: its listener, who may connect, how it negotiates.
    void read_internal_s2s(table_reader& r, toml::table const& t);
    void read_tls(toml::table const& t);
    void read_dns(toml::table const& t);
    void read_limits(toml::table const& t);
    void read_store(toml::table const& t);
    void read_blocklist(toml::table const& t);
    void read_log(toml::table const& t);
    void read_metrics(toml::table const& t);
    void read_control(toml::table const& t);
    std::vector<socket_address> read_addresses(table_reader& r, std::string_view key,
                                               std::vector<std::string_view> const& defaults,
                                               std::uint16_t default_port);
    file_setting read_file(table_reader& r, std::string_view key);
    /// A file named by `value` (of `key` in `r`'s section), resolved against the configuration's folder.
    file_setting file_named(located_string const& value, table_reader& r, std::string_view key);

    // domain_sections.cpp
    void read_local_domains(toml::node const* node);
    void read_partners(toml::node const* node);
    void read_partner(toml::table const& t);
    /// What a [[partner]] and [default_partner] share: description, type, the
    /// negotiation, the extensions, the rate limit; false when one was wrong.
    bool read_partner_terms(table_reader& r, toml::table const& t, partner& p);
    // default_partner_section.cpp
    void read_default_partner(toml::table const* t);
    /// tls, sasl and dialback of a partner or of [internal]; false when one was wrong.
    bool read_negotiation(table_reader& r, toml::table const& t, policy::negotiation_settings& into);
    /// evaluate(n), its error and warnings reported at the setting to change, prefixed by `who`.
    policy::policy_evaluation judge_negotiation(table_reader const& r, policy::negotiation_settings const& n,
                                                std::string const& who);
    std::optional<std::string> read_domain(located_string const& value, std::string_view key,
                                           std::string_view section);
    enum class owner : std::uint8_t { local, partner };
    bool claim(std::string const& domain, std::uint32_t line, owner who);

    diagnostics& out_;
    std::filesystem::path base_dir_;
    bool open_federation_ = false;  ///< [default_partner] is present: no partner listed is no warning
    config cfg_;
    struct claim_record {
        std::uint32_t line;
        owner who;
    };
    std::map<std::string, claim_record, std::less<>> claimed_;
};

/// Returns the table at `key` of `root`, reporting a value of another kind.
toml::table const* section_table(toml::table const& root, std::string_view key, diagnostics& out);

}  // namespace fedgate::conf::detail
