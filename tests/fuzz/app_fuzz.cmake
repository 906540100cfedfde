# app: the relay's internal HTTP wire (offer and answer bodies from another replica).
edgeclass_fuzz(app_relay_wire_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/app_relay_wire_fuzz.cc LIBS app_lib)
