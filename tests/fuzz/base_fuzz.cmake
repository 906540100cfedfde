# base: the bearer token parser (JWT verify) and the base64url codec under it.
edgeclass_fuzz(base_jwt_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/base_jwt_fuzz.cc LIBS base)
