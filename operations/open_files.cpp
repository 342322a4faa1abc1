#include "operations/open_files.hpp"

#include <sys/resource.h>

namespace fedgate::operations {

std::optional<open_file_limit> raise_open_file_limit() noexcept
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return std::nullopt;
    open_file_limit result{limit.rlim_cur, limit.rlim_cur};
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            result.after = raised.rlim_cur;
    }
    return result;
}

}  // namespace fedgate::operations
