// Boost.JSON is header-only in fedgate: one translation unit of each executable
// compiles its definitions (in fedgate itself, daemon/contacts_cli.cpp).
#include <boost/json/src.hpp>
