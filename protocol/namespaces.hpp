#pragma once
/// @file
/// XML namespace names fedgate matches elements on (RFC 6120, XEP-0220, XEP-0114, XEP-0198).

#include <string_view>

namespace fedgate::protocol::ns {

inline constexpr std::string_view streams = "http://etherx.jabber.org/streams";           ///< RFC 6120 §4.8.1
inline constexpr std::string_view server = "jabber:server";                               ///< S2S content
inline constexpr std::string_view component = "jabber:component:accept";                  ///< XEP-0114
inline constexpr std::string_view dialback = "jabber:server:dialback";                    ///< XEP-0220 db:
inline constexpr std::string_view dialback_feature = "urn:xmpp:features:dialback";        ///< XEP-0220 §2.6
inline constexpr std::string_view tls = "urn:ietf:params:xml:ns:xmpp-tls";                 ///< RFC 6120 §5
inline constexpr std::string_view sasl = "urn:ietf:params:xml:ns:xmpp-sasl";               ///< RFC 6120 §6
inline constexpr std::string_view stream_errors = "urn:ietf:params:xml:ns:xmpp-streams";   ///< RFC 6120 §4.9
inline constexpr std::string_view stanza_errors = "urn:ietf:params:xml:ns:xmpp-stanzas";   ///< RFC 6120 §8.3
inline constexpr std::string_view sm = "urn:xmpp:sm:3";                                   ///< XEP-0198 stream management
inline constexpr std::string_view bidi = "urn:xmpp:bidi";                                 ///< XEP-0288 request
inline constexpr std::string_view bidi_feature = "urn:xmpp:features:bidi";                ///< XEP-0288 stream feature
inline constexpr std::string_view client = "jabber:client";                               ///< C2S content

/// The stanza namespaces of the three stream types (RFC 6120 §4.8.2, XEP-0114):
/// the serializer writes them in the content namespace of the stream written to.
constexpr bool is_content_namespace(std::string_view uri) noexcept
{
    return uri == server || uri == component || uri == client;
}
inline constexpr std::string_view xml = "http://www.w3.org/XML/1998/namespace";            ///< xml:lang

}  // namespace fedgate::protocol::ns
