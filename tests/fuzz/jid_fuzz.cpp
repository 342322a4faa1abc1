// libFuzzer target: arbitrary bytes as a JID. A JID that parses must print to
// text that parses again.
#include "protocol/jid.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view text{reinterpret_cast<char const*>(data), size};
    std::string why;
    auto j = fedgate::protocol::jid::parse(text, &why);
    if (!j) {
        if (why.empty())
            std::abort();  // every refusal has a reason
        return 0;
    }
    if (!fedgate::protocol::jid::parse(j->to_string()))
        std::abort();
    return 0;
}
