#pragma once
/// @file
/// Dialback keys (XEP-0185, as incorporated in XEP-0220 §2.1.1): stateless, so any
/// fedgate instance that shares the secret answers a db:verify for a key another
/// instance generated.

#include <string>
#include <string_view>
#include <vector>

namespace fedgate::negotiation {

/// The dialback secret in the form the key derivation uses: the lowercase hex of
/// SHA-256(secret). Holding only the derived form keeps the raw secret out of memory
/// after start-up.
class dialback_secret {
public:
    /// From the configured secret (the file's text, surrounding whitespace removed
    /// by the caller).
    [[nodiscard]] static dialback_secret from_text(std::string_view secret);
    /// A fresh secret of 256 bits from the CSPRNG, for a deployment without a
    /// configured secret file (single instance: keys do not survive a restart).
    [[nodiscard]] static dialback_secret random();

    /// key = HMAC-SHA256(hex(SHA256(secret)), receiving ' ' originating ' ' stream_id),
    /// as lowercase hex.
    /// @param receiving   the domain the key is presented to (db:result `to`)
    /// @param originating the domain that asserts its identity (db:result `from`)
    /// @param stream_id   the id of the stream the receiving server opened
    /// @see XEP-0185 §2, XEP-0220 §2.1.1
    [[nodiscard]] std::string key(std::string_view receiving, std::string_view originating,
                                  std::string_view stream_id) const;

    /// Whether `presented` is the key for these inputs under this secret or an
    /// accepted one; compares in constant time so that a peer cannot learn a
    /// key byte by byte from response timing.
    [[nodiscard]] bool verify(std::string_view presented, std::string_view receiving,
                              std::string_view originating, std::string_view stream_id) const;

    /// Keys made with `other` verify too (a rotation: instances that make keys
    /// with the next secret, or still with the last one); key() keeps using
    /// this secret.
    void accept(dialback_secret const& other);

private:
    explicit dialback_secret(std::string hashed) : hashed_{std::move(hashed)} {}
    [[nodiscard]] static std::string key_with(std::string const& hashed, std::string_view receiving,
                                              std::string_view originating, std::string_view stream_id);
    std::string hashed_;
    std::vector<std::string> accepted_;  ///< the other secrets, in the same derived form
};

/// Equality of two strings in time that depends only on their lengths.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Lowercase hex of `size` bytes.
[[nodiscard]] std::string hex_encode(unsigned char const* data, std::size_t size);

/// `bytes` bytes from OpenSSL's CSPRNG as lowercase hex. Stream ids use 16 bytes
/// (128 bits, the minimum; RFC 6120 §4.7.3 asks for unpredictability).
/// Throws std::runtime_error if the CSPRNG fails, which only happens when the
/// system cannot seed it: refusing to run is right then.
[[nodiscard]] std::string random_hex(std::size_t bytes);

/// A new stream id: 128 bits from the CSPRNG.
[[nodiscard]] inline std::string new_stream_id()
{
    return random_hex(16);
}

}  // namespace fedgate::negotiation
