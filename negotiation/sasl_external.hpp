#pragma once
/// @file
/// SASL EXTERNAL for S2S (RFC 6120 §6, XEP-0178) through Cyrus SASL, behind small
/// interfaces so that the negotiation machines can be driven with fakes in tests.
/// The machines decode the base64 payload and check the mechanism name; these
/// objects decide whether the authorization identity is acceptable.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fedgate::negotiation {

/// SASL failure conditions (RFC 6120 §6.5) that fedgate sends.
enum class sasl_condition : std::uint8_t {
    aborted,
    encryption_required,
    incorrect_encoding,
    invalid_authzid,
    invalid_mechanism,
    malformed_request,
    not_authorized,
    temporary_auth_failure,
};

/// The element name of a condition: "invalid-authzid", ...
[[nodiscard]] std::string_view wire_name(sasl_condition c) noexcept;

/// The outcome of one exchange.
struct sasl_result {
    std::optional<sasl_condition> failure;  ///< nullopt on success
    std::string authorized_identity;        ///< on success: the authenticated domain
    std::string text;                       ///< why it failed, for logs

    [[nodiscard]] bool ok() const noexcept { return !failure.has_value(); }
};

/// The receiving server's side.
class sasl_server {
public:
    virtual ~sasl_server() = default;
    /// Runs one EXTERNAL exchange on a fresh context (a restarted exchange never
    /// reuses state). `verified_domain` is the domain the peer's certificate was
    /// verified for (XEP-0178 §3); `authzid` is the decoded initial response, empty
    /// when the peer sent "=". An authzid other than the verified domain fails with
    /// invalid_authzid.
    [[nodiscard]] virtual sasl_result authenticate_external(std::string_view authzid,
                                                            std::string_view verified_domain) = 0;
};

/// The initiating server's side.
class sasl_client {
public:
    virtual ~sasl_client() = default;
    /// The initial response of an EXTERNAL exchange in which `our_domain` asserts
    /// itself: the domain as authzid, as Prosody and ejabberd expect (XEP-0178 §4).
    [[nodiscard]] virtual std::string external_initial_response(std::string_view our_domain,
                                                                std::string_view peer_domain) = 0;
};

/// Cyrus SASL implementations. The library is initialised once per process, with
/// callbacks that keep it from reading system SASL configuration or plugins: only
/// the built-in EXTERNAL mechanism is used.
[[nodiscard]] std::unique_ptr<sasl_server> make_cyrus_sasl_server();
[[nodiscard]] std::unique_ptr<sasl_client> make_cyrus_sasl_client();

}  // namespace fedgate::negotiation
