# Compile options for fedgate's own targets. Third-party headers come from system
# include directories, so -Werror applies to our code only.
add_library(fedgate_options INTERFACE)
target_compile_options(fedgate_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wold-style-cast -Wcast-align)
# GCC 12 at -O3 (Release) reports -Wrestrict for `"text" + std::string` inside
# libstdc++ (GCC bug 105651): a false positive, silenced for those versions only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14)
  target_compile_options(fedgate_options INTERFACE -Wno-restrict)
endif()
if(FEDGATE_WERROR)
  target_compile_options(fedgate_options INTERFACE -Werror)
endif()

if(FEDGATE_SANITIZE)
  set(fedgate_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
                             -fno-omit-frame-pointer)
  target_compile_options(fedgate_options INTERFACE ${fedgate_sanitize_flags})
  target_link_options(fedgate_options INTERFACE ${fedgate_sanitize_flags})
endif()

if(FEDGATE_TSAN)
  if(FEDGATE_SANITIZE)
    message(FATAL_ERROR "FEDGATE_TSAN and FEDGATE_SANITIZE exclude each other: one build directory each")
  endif()
  set(fedgate_tsan_flags -fsanitize=thread -fno-omit-frame-pointer)
  # GCC 12 warns (-Wtsan) that TSan does not model the atomic_thread_fence in
  # Boost.Asio's handler dispatch; the warning is about the tool, not our code.
  target_compile_options(fedgate_options INTERFACE ${fedgate_tsan_flags}
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  target_link_options(fedgate_options INTERFACE ${fedgate_tsan_flags})
endif()

if(FEDGATE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FEDGATE_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # Coverage for libFuzzer in every library; the fuzz targets link the fuzzer main.
  set(fedgate_fuzz_flags -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                         -fno-omit-frame-pointer)
  target_compile_options(fedgate_options INTERFACE ${fedgate_fuzz_flags})
  target_link_options(fedgate_options INTERFACE -fsanitize=address,undefined)
endif()
