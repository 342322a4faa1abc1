#include "negotiation/dialback_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace fedgate::negotiation {
namespace {

std::string sha256_hex(std::string_view text)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error{"SHA-256 failed"};
    return hex_encode(digest.data(), size);
}

}  // namespace

std::string hex_encode(unsigned char const* data, std::size_t size)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    return out;
}

dialback_secret dialback_secret::from_text(std::string_view secret)
{
    // XEP-0185: the HMAC key is the *hex string* of SHA-256(secret), not its raw
    // bytes; the example key in the XEP only comes out with the hex form.
    return dialback_secret{sha256_hex(secret)};
}

dialback_secret dialback_secret::random()
{
    return from_text(random_hex(32));
}

std::string dialback_secret::key(std::string_view receiving, std::string_view originating,
                                 std::string_view stream_id) const
{
    return key_with(hashed_, receiving, originating, stream_id);
}

void dialback_secret::accept(dialback_secret const& other)
{
    if (other.hashed_ != hashed_)
        accepted_.push_back(other.hashed_);
}

std::string dialback_secret::key_with(std::string const& hashed, std::string_view receiving,
                                      std::string_view originating, std::string_view stream_id)
{
    std::string message;
    message.reserve(receiving.size() + originating.size() + stream_id.size() + 2);
    message.append(receiving).append(1, ' ').append(originating).append(1, ' ').append(stream_id);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    if (!HMAC(EVP_sha256(), hashed.data(), static_cast<int>(hashed.size()),
              reinterpret_cast<unsigned char const*>(message.data()), message.size(), mac.data(), &size))
        throw std::runtime_error{"HMAC-SHA256 failed"};
    return hex_encode(mac.data(), size);
}

bool dialback_secret::verify(std::string_view presented, std::string_view receiving, std::string_view originating,
                             std::string_view stream_id) const
{
    // Every secret is tried, whichever matches: the time says nothing of which.
    bool valid = constant_time_equal(presented, key(receiving, originating, stream_id));
    for (auto const& other : accepted_)
        valid = constant_time_equal(presented, key_with(other, receiving, originating, stream_id)) || valid;
    return valid;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_hex(std::size_t bytes)
{
    std::vector<unsigned char> buffer(bytes);
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1)
        throw std::runtime_error{"the system's random number generator failed"};
    return hex_encode(buffer.data(), buffer.size());
}

}  // namespace fedgate::negotiation
