#pragma once
/// @file
/// The short names the S2S sessions' steps are written in (inbound_session.cpp,
/// inbound_dialback.cpp, outbound_session.cpp), named here once. Private to
/// negotiation/: only those .cpp files include it, so the names reach no user of
/// the library.

#include "negotiation/wire.hpp"
#include "protocol/element.hpp"
#include "protocol/namespaces.hpp"
#include "protocol/stream_error.hpp"

namespace fedgate::negotiation {

namespace ns = protocol::ns;
using protocol::element;
using protocol::stream_error;
using wire::canonical_domain;
using wire::db_kind;
using wire::describe_stream_error;
using wire::overloaded;

}  // namespace fedgate::negotiation
