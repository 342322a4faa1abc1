#include "conf/diagnostic.hpp"

#include <algorithm>

namespace fedgate::conf {

std::string diagnostic::where() const
{
    return line == 0 ? file : file + ":" + std::to_string(line);
}

std::string diagnostic::format() const
{
    std::string out = where();
    out += level == severity::error ? ": error: " : ": warning: ";
    out += message;
    return out;
}

void diagnostics::error(std::uint32_t line, std::string message)
{
    items_.push_back({diagnostic::severity::error, file_, line, std::move(message)});
}

void diagnostics::warning(std::uint32_t line, std::string message)
{
    items_.push_back({diagnostic::severity::warning, file_, line, std::move(message)});
}

bool diagnostics::has_errors() const noexcept
{
    return std::any_of(items_.begin(), items_.end(),
                       [](auto const& d) { return d.level == diagnostic::severity::error; });
}

}  // namespace fedgate::conf
