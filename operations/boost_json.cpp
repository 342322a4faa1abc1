// Boost.JSON is used header-only: src.hpp compiles its definitions, so it
// belongs in this one translation unit (the fedgate_json library); every other
// file includes <boost/json.hpp> and links fedgate_json.
#include <boost/json/src.hpp>
