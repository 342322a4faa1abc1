#pragma once
/// @file
/// JIDs (RFC 7622): localpart@domainpart/resourcepart, parsed, checked and
/// normalised so that equal addresses compare equal.

#include <optional>
#include <string>
#include <string_view>

namespace fedgate::protocol {

class jid {
public:
    /// Parses and normalises `text` (RFC 7622 §3.1: the domainpart ends at the first
    /// '/', the localpart at the first '@' before it). The domainpart goes through
    /// check_domain_name() (IDNA2008, lowercase, trailing dot stripped). The
    /// localpart is checked against RFC 7622 §3.3.1 (no " & ' / : < > @, no spaces or
    /// controls, valid UTF-8) and prepared with libidn's XMPP nodeprep (case folding,
    /// NFKC), the resourcepart with resourceprep (NFKC), as Prosody does: the
    /// stringprep profiles of RFC 3920, which Debian 12 offers where it has no PRECIS
    /// (RFC 8264) library; they agree on the addresses seen in practice. Each part
    /// is 1..1023 octets. On failure returns nullopt and, if `why` is
    /// given, the reason.
    [[nodiscard]] static std::optional<jid> parse(std::string_view text, std::string* why = nullptr);

    [[nodiscard]] std::string const& local() const noexcept { return local_; }
    [[nodiscard]] std::string const& domain() const noexcept { return domain_; }
    [[nodiscard]] std::string const& resource() const noexcept { return resource_; }

    [[nodiscard]] bool is_bare() const noexcept { return resource_.empty(); }
    /// A server or component address: no localpart, no resource.
    [[nodiscard]] bool is_domain() const noexcept { return local_.empty() && resource_.empty(); }
    /// The same JID without its resourcepart.
    [[nodiscard]] jid bare() const;
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(jid const&, jid const&) = default;
    friend auto operator<=>(jid const&, jid const&) = default;

private:
    std::string local_;
    std::string domain_;
    std::string resource_;
};

/// A stanza's 'from' and 'to', parsed once by the session that checked them:
/// every parse is IDNA and stringprep work, so the stanza's path reuses these.
struct stanza_addresses {
    jid from;
    jid to;
};

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or values
/// above U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace fedgate::protocol
