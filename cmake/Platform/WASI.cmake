# CMake 3.25 has no platform file for WASI (cmake/wasm32-wasi.cmake puts this directory on
# CMAKE_MODULE_PATH): static libraries and .wasm modules, nothing shared.
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_STATIC_LIBRARY_PREFIX "lib")
set(CMAKE_STATIC_LIBRARY_SUFFIX ".a")
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
