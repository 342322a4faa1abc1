#pragma once
// Stanzas for the contact tests, and what the session that checked one would
// hand on with it.
#include "protocol/element.hpp"
#include "protocol/jid.hpp"
#include "protocol/namespaces.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fedgate::contacts::testing {

inline protocol::element stanza(std::string name, std::string type, std::string from, std::string to,
                                std::string id = "x1")
{
    protocol::element e{std::move(name), std::string{protocol::ns::server}};
    e.set_attribute("from", std::move(from));
    e.set_attribute("to", std::move(to));
    if (!type.empty())
        e.set_attribute("type", std::move(type));
    e.set_attribute("id", std::move(id));
    return e;
}

/// The first condition of an error reply ("" when there is none).
inline std::string condition_of(protocol::element const& reply)
{
    auto const* error = reply.child("error", reply.ns());
    return error && !error->child_elements().empty() ? error->child_elements().front()->name() : "";
}

/// The stanza's addresses, parsed (and normalised) as a session parses them.
inline protocol::stanza_addresses addresses_of(protocol::element const& e)
{
    auto from = protocol::jid::parse(e.from());
    auto to = protocol::jid::parse(e.to());
    EXPECT_TRUE(from && to) << e.from() << " -> " << e.to();
    return {from.value_or(protocol::jid{}), to.value_or(protocol::jid{})};
}

}  // namespace fedgate::contacts::testing
