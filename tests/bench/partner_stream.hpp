#pragma once
/// @file
/// Partner b.test's side of the inbound direction: its TLS client context and
/// its S2S streams into the server under test.

#include <openssl/ssl.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace fedgate::bench {

/// b.test's client context: its certificate and key, the lab CA.
SSL_CTX* partner_context(std::filesystem::path const& dir);

/// The stream header b.test opens (and, after STARTTLS and SASL, reopens) a
/// stream to `to` with.
std::string partner_header(std::string const& to);

/// One inbound S2S stream from b.test: STARTTLS and SASL EXTERNAL with
/// blocking OpenSSL, then raw writes.
class partner_stream {
public:
    partner_stream(std::uint16_t port, SSL_CTX* ctx, std::string to);
    ~partner_stream();
    partner_stream(partner_stream const&) = delete;
    partner_stream& operator=(partner_stream const&) = delete;

    void negotiate();
    void send(std::string_view bytes);

private:
    void read_until(std::string_view marker, std::string_view other = "\x01");

    int fd_;
    SSL_CTX* ctx_;
    SSL* ssl_ = nullptr;
    std::string to_;
    std::string seen_;
};

}  // namespace fedgate::bench
