# wasi: the wasm32-wasi server's HTTP/1.1 framing (picohttpparser under our limits).
edgeclass_fuzz(wasi_http1_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/wasi_http1_fuzz.cc LIBS wasi_http1)
