# Compile options for fedgate's own targets. Third-party headers come from system
# include directories, so -Werror applies to our code only.
add_library(fedgate_options INTERFACE)
target_compile_options(fedgate_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wold-style-cast -Wcast-align)
if(FEDGATE_WERROR)
  target_compile_options(fedgate_options INTERFACE -Werror)
endif()

if(FEDGATE_SANITIZE)
  set(fedgate_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
                             -fno-omit-frame-pointer)
  target_compile_options(fedgate_options INTERFACE ${fedgate_sanitize_flags})
  target_link_options(fedgate_options INTERFACE ${fedgate_sanitize_flags})
endif()
