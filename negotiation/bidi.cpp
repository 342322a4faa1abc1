#include "negotiation/bidi.hpp"

#include "protocol/namespaces.hpp"

namespace fedgate::negotiation::bidi {

namespace ns = protocol::ns;
using protocol::element;

element feature()
{
    return element{"bidi", std::string{ns::bidi_feature}};
}

bool offered(element const& features)
{
    return features.child("bidi", ns::bidi_feature) != nullptr;
}

element request()
{
    return element{"bidi", std::string{ns::bidi}};
}

bool is_request(element const& e)
{
    return e.is("bidi", ns::bidi);
}

}  // namespace fedgate::negotiation::bidi
