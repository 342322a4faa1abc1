#pragma once
/// @file
/// Joins a stream_reader to a session: bytes in, actions out, still without I/O.
/// It carries out the two actions that concern the parser itself, so that every
/// executor (the daemon, the tests) gets them right once:
/// - begin_tls is refused, and the connection dropped without another byte
///   written (close_stream::drop_connection), when bytes arrived after the
///   element that asked for TLS: they were sent in plaintext but would be read as
///   if protected (RFC 6120 §5.4.3.3; the STARTTLS command injection class);
/// - restart_stream replaces the reader, handing it the bytes already received.
/// The actions are still returned, so the executor can do its part (start the
/// handshake, log).

#include "negotiation/session_types.hpp"
#include "protocol/stream_reader.hpp"

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace fedgate::negotiation {

class stream_driver {
public:
    /// `s` is borrowed and must outlive the driver. `content_ns` is the stream's
    /// content namespace: jabber:server, or jabber:component:accept for a link.
    explicit stream_driver(session& s, protocol::reader_limits limits = {},
                           std::string_view content_ns = protocol::ns::server);

    /// The session's start().
    [[nodiscard]] std::vector<action> start();
    /// Bytes from the peer (decrypted, once TLS is up).
    [[nodiscard]] std::vector<action> receive(std::string_view bytes);
    /// Any other event (TLS up, dialback answers, deadlines, connection lost).
    [[nodiscard]] std::vector<action> handle(event e);

    [[nodiscard]] bool finished() const noexcept { return finished_; }
    /// The session's handled_count().
    [[nodiscard]] std::optional<std::uint32_t> handled_count() const noexcept { return session_.handled_count(); }
    /// Called with each stream header the peer sends, before the session sees
    /// it (the executor logs it as received).
    void on_header(std::function<void(protocol::stream_header const&)> f) { header_seen_ = std::move(f); }

private:
    std::vector<action> parse();
    /// Appends `actions` to `out`, carrying out begin_tls checks and restarts.
    /// Returns false when the stream ended.
    bool absorb(std::vector<action> actions, std::vector<action>& out);
    void end_with(std::vector<action>& out, close_stream close);

    session& session_;
    protocol::reader_limits limits_;
    std::string_view content_ns_;
    std::unique_ptr<protocol::stream_reader> reader_;
    bool finished_ = false;
    std::function<void(protocol::stream_header const&)> header_seen_;
};

}  // namespace fedgate::negotiation
