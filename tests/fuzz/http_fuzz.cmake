# http: raw request bytes through parser, router and handlers; each route's JSON body reader.
add_library(fuzz_http_harness STATIC ${CMAKE_CURRENT_LIST_DIR}/http_harness.cc)
target_link_libraries(fuzz_http_harness PUBLIC fuzz_world http)
if(EDGECLASS_FUZZ)
  target_compile_options(fuzz_http_harness PRIVATE -fno-sanitize=function)  # see the root CMakeLists
endif()
edgeclass_fuzz(http_request_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_request_fuzz.cc
               LIBS fuzz_http_harness)
edgeclass_fuzz(http_body_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_body_fuzz.cc
               LIBS fuzz_http_harness)
# The request-head fast path against Beast's parser (differential).
edgeclass_fuzz(http_fast_head_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_fast_head_fuzz.cc
               LIBS http)
