#pragma once
/// @file
/// Every stream is a file descriptor. The usual soft limit outside systemd is
/// 1024, which 16 connections from each of 64 addresses fill, after which
/// accept() fails and partners are turned away by the kernel; the hard limit is
/// much higher. fedgate asks for its hard limit at start (the unit sets both to
/// LimitNOFILE=, so under systemd this changes nothing).

#include <cstdint>
#include <optional>

namespace fedgate::operations {

struct open_file_limit {
    std::uint64_t before = 0;
    std::uint64_t after = 0;
};

/// Raises the soft RLIMIT_NOFILE to the hard one; the limits before and after,
/// or nothing when they cannot be read.
std::optional<open_file_limit> raise_open_file_limit() noexcept;

}  // namespace fedgate::operations
