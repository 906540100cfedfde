# edgeclass_include_root(<target> <folder> [PUBLIC|PRIVATE]): make src/<folder>'s headers
# reachable as "<folder>/x.h" for <target> (PUBLIC by default: and for whatever links it).
#
# Each folder gets an include root of its own, ${PROJECT_BINARY_DIR}/include/<folder>, holding
# one symbolic link <folder> -> src/<folder>. A target therefore sees the headers of its own
# folder and of the libraries it links (through their PUBLIC include roots), and no others:
# `#include "ws/live_hub.h"` in a folder that does not link `ws` fails to compile instead of
# quietly working. A single -I src for everyone (what `include_directories(src)` did) would
# let any folder include any header and only the linker would notice, and only for symbols
# that are not inline. Which links are allowed at all is docs/layers.txt's job (CTest
# `layering`); this keeps the include path and the link list the same thing.
function(edgeclass_include_root target folder)
  set(scope PUBLIC)
  if(ARGC GREATER 2)
    set(scope ${ARGV2})
  endif()
  set(root ${PROJECT_BINARY_DIR}/include/${folder})
  if(NOT IS_SYMLINK ${root}/${folder})
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${folder} ${root}/${folder} SYMBOLIC)
  endif()
  target_include_directories(${target} ${scope} ${root})
endfunction()
