#pragma once
/// @file
/// Connection attempts the kernel dropped because a listen queue was full.
/// When fedgate accepts more slowly than connections arrive (a flood, a stalled
/// process), the kernel refuses the excess itself and nothing of fedgate's sees
/// them. Linux keeps no count per socket, only per network namespace (TcpExt
/// ListenOverflows in /proc/net/netstat), so that is what fedgate reports: the
/// increase since it started, checked every second. In a namespace of its own
/// (a container, a systemd PrivateNetwork) every overflow is fedgate's;
/// elsewhere another program's full queue counts too, and the log line says so.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace fedgate::operations {

/// ListenOverflows from the text of /proc/net/netstat (a "TcpExt:" line of
/// names followed by one of values); nothing when it is not there.
[[nodiscard]] std::optional<std::uint64_t> listen_overflows_in(std::string_view netstat);

/// Reads the counter and tells what it gained since the last look.
class listen_overflow_watch {
public:
    explicit listen_overflow_watch(std::filesystem::path netstat = "/proc/net/netstat");
    /// Overflows since the previous call (since construction, the first time);
    /// 0 when the counter cannot be read.
    [[nodiscard]] std::uint64_t new_overflows();
    /// False when the kernel does not show the counter (no /proc, another OS).
    [[nodiscard]] bool available() const noexcept { return last_.has_value(); }

private:
    std::filesystem::path path_;
    std::optional<std::uint64_t> last_;
};

}  // namespace fedgate::operations
