#pragma once
/// @file
/// Messages about a configuration file, each tied to the file and line it concerns.

#include <cstdint>
#include <string>
#include <vector>

namespace fedgate::conf {

/// One finding about a configuration: an error stops fedgate from using it; a warning
/// does not.
struct diagnostic {
    enum class severity : std::uint8_t { error, warning };

    severity level = severity::error;
    std::string file;
    std::uint32_t line = 0;  ///< 1-based; 0 when the finding concerns the whole file
    std::string message;     ///< what is wrong and what to do about it

    /// "FILE:LINE: error: MESSAGE", the shape compilers and editors understand.
    [[nodiscard]] std::string format() const;
    /// "FILE:LINE" ("FILE" for the whole file), for a log line whose level says the rest.
    [[nodiscard]] std::string where() const;
    friend bool operator==(diagnostic const&, diagnostic const&) = default;
};

/// The findings of one load, in the order they were found.
class diagnostics {
public:
    explicit diagnostics(std::string file) : file_{std::move(file)} {}

    void error(std::uint32_t line, std::string message);
    void warning(std::uint32_t line, std::string message);
    /// A finding about another file (one the configuration names).
    void add(diagnostic d) { items_.push_back(std::move(d)); }

    [[nodiscard]] bool has_errors() const noexcept;
    [[nodiscard]] std::vector<diagnostic> const& items() const noexcept { return items_; }
    [[nodiscard]] std::vector<diagnostic> take() noexcept { return std::move(items_); }
    [[nodiscard]] std::string const& file() const noexcept { return file_; }

private:
    std::string file_;
    std::vector<diagnostic> items_;
};

}  // namespace fedgate::conf
