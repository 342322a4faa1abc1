// What the DNS errors become as metric labels: short, stable, one per kind.
#include "dns/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using fedgate::dns::error;

TEST(dns_error, every_kind_has_its_own_short_code)
{
    std::set<std::string> codes;
    for (auto e : {error::nxdomain, error::no_data, error::timeout, error::server_failure, error::refused,
                   error::bad_reply, error::service_unavailable, error::cancelled, error::failed}) {
        auto const code = std::string{fedgate::dns::code_of(make_error_code(e))};
        EXPECT_EQ(code.find(' '), std::string::npos) << code;
        codes.insert(code);
    }
    EXPECT_EQ(codes.size(), 9U);
    EXPECT_EQ(fedgate::dns::code_of(make_error_code(error::nxdomain)), "nxdomain");
}

TEST(dns_error, an_error_of_another_category_is_failed)
{
    EXPECT_EQ(fedgate::dns::code_of(std::make_error_code(std::errc::connection_refused)), "failed");
}

}  // namespace
