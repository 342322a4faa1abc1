// libFuzzer target: arbitrary text through the configuration loader (TOML, then
// every section's checks), as `fedgate check-config` reads a file, without the
// file system. A loader must explain, never crash: crashes, sanitizer reports,
// leaks, and a refusal without a finding are the findings.
#include "conf/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view const text{reinterpret_cast<char const*>(data), size};
    auto result = fedgate::conf::parse(text, "fuzz.toml", "/nonexistent");
    if (!result.ok() && result.findings.empty())
        std::abort();  // refused without a word
    return 0;
}
