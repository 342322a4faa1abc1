# Finds every dependency fedgate builds against. Each comes from a Debian 12 package;
# a missing one stops the configure step naming the package to install
# (scripts/setup-deps installs them all).
include(FindPkgConfig)

function(fedgate_missing what package)
  message(FATAL_ERROR "fedgate: ${what} was not found. Install the Debian package "
                      "'${package}' (or run scripts/setup-deps).")
endfunction()

if(NOT PKG_CONFIG_FOUND)
  fedgate_missing("pkg-config" "pkg-config")
endif()

macro(fedgate_find_package name package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    fedgate_missing("${name}" "${package}")
  endif()
endmacro()

macro(fedgate_pkg_check target module package)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${target}_FOUND)
    fedgate_missing("${module} (pkg-config)" "${package}")
  endif()
endmacro()

set(Boost_NO_WARN_NEW_VERSIONS ON)
fedgate_find_package(Boost libboost1.81-dev 1.81 CONFIG)
fedgate_find_package(OpenSSL libssl-dev 3.0)
fedgate_find_package(EXPAT libexpat1-dev)
fedgate_find_package(spdlog libspdlog-dev CONFIG)
fedgate_find_package(tomlplusplus libtomlplusplus-dev CONFIG)
fedgate_find_package(SQLite3 libsqlite3-dev)
fedgate_find_package(CLI11 libcli11-dev CONFIG)
fedgate_find_package(Threads libc6-dev)

fedgate_pkg_check(SASL2 libsasl2 libsasl2-dev)
fedgate_pkg_check(CARES libcares libc-ares-dev)
fedgate_pkg_check(SYSTEMD libsystemd libsystemd-dev)
fedgate_pkg_check(IDN2 libidn2 libidn2-dev)
fedgate_pkg_check(IDN libidn libidn-dev)  # XMPP nodeprep/resourceprep for JIDs
fedgate_pkg_check(PQ libpq libpq-dev)  # the shared relationship store (PostgreSQL)

if(FEDGATE_BUILD_TESTS)
  fedgate_find_package(GTest "libgtest-dev libgmock-dev" CONFIG)
endif()
if(FEDGATE_BUILD_BENCHMARKS)
  fedgate_find_package(benchmark libbenchmark-dev CONFIG)
endif()
