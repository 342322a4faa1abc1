#pragma once
/// @file
/// The partner negotiation policy: what the three per-partner settings of the Lync
/// Server 2013 XMPP gateway (seed 000) allow, following the complete 18-row matrix of
/// seed 001 and the commit rule "SASL requires TLS" (shared/DESIGN.md, "Partner policy").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::policy {

/// How a stream feature must be negotiated with a partner (seed 000: TLS negotiation,
/// SASL negotiation).
enum class requirement : std::uint8_t { required, optional, not_supported };

/// The ways an S2S stream with a partner may end up authenticated.
enum class auth_method : std::uint8_t {
    sasl_over_tls = 1,  ///< SASL EXTERNAL on a TLS stream (XEP-0178)
    tls_dialback = 2,   ///< XEP-0220 dialback on a TLS stream
    tcp_dialback = 4,   ///< XEP-0220 dialback on a plaintext stream
};

/// A set of auth_method values.
class method_set {
public:
    constexpr method_set() noexcept = default;
    constexpr method_set(std::initializer_list<auth_method> methods) noexcept
    {
        for (auto m : methods)
            bits_ |= static_cast<std::uint8_t>(m);
    }
    [[nodiscard]] constexpr bool contains(auth_method m) const noexcept
    {
        return (bits_ & static_cast<std::uint8_t>(m)) != 0;
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
    constexpr void insert(auth_method m) noexcept { bits_ |= static_cast<std::uint8_t>(m); }
    friend constexpr bool operator==(method_set, method_set) noexcept = default;

private:
    std::uint8_t bits_ = 0;
};

/// The three negotiation settings of one partner, exactly as seed 000 names them.
struct negotiation_settings {
    requirement tls = requirement::required;
    requirement sasl = requirement::optional;
    bool dialback = true;
    friend bool operator==(negotiation_settings const&, negotiation_settings const&) = default;
};

/// Whether a combination of settings may be committed.
enum class verdict : std::uint8_t { valid, error };

/// What a combination of settings means.
struct policy_evaluation {
    /// The methods seed 001's complete matrix expects for this combination. For a
    /// combination refused by the commit rule this is what it *would* have done; it
    /// is never applied (see `applied`).
    method_set expected;
    verdict outcome = verdict::valid;
    /// The reason the combination is refused, with the fix; set iff outcome == error.
    std::optional<std::string> error;
    /// Valid but risky: seed 001's warnings.
    std::vector<std::string> warnings;
    /// Seed 001's explanatory note for the row, when it has one.
    std::optional<std::string> note;

    /// The methods fedgate enforces at run time: none for a refused combination.
    [[nodiscard]] method_set applied() const noexcept
    {
        return outcome == verdict::valid ? expected : method_set{};
    }
};

/// Evaluates one combination of partner settings. Pure and total: every one of the
/// 3 x 3 x 2 combinations has an answer.
/// @see shared/DESIGN.md "Partner policy"; seed 001 "Matrix - Complete"; seed 000 step 11
[[nodiscard]] policy_evaluation evaluate(negotiation_settings const& settings);

/// The wire of configuration: "required", "optional", "not_supported".
[[nodiscard]] std::string_view config_name(requirement r) noexcept;
/// Parses a configuration word; nullopt when it is none of the three.
[[nodiscard]] std::optional<requirement> parse_requirement(std::string_view word) noexcept;
/// The seed's words: "SASL over TLS", "TLS dialback", "TCP dialback".
[[nodiscard]] std::string_view display_name(auth_method m) noexcept;
/// "sasl-over-tls", "tls-dialback", "tcp-dialback": stable codes for metric labels.
[[nodiscard]] std::string_view metric_name(auth_method m) noexcept;
/// The methods in preference order (SASL over TLS, TLS dialback, TCP dialback),
/// joined with ", "; "none" when empty.
[[nodiscard]] std::string describe(method_set methods);
/// All methods in preference order, for iteration.
inline constexpr auth_method all_methods[] = {auth_method::sasl_over_tls, auth_method::tls_dialback,
                                              auth_method::tcp_dialback};

}  // namespace fedgate::policy
