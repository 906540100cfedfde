# media: one target per wire parser (STUN with the ICE server, RTP, RTCP, SDP with the answer).
edgeclass_fuzz(media_stun_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_stun_fuzz.cc LIBS media_core)
edgeclass_fuzz(media_rtp_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_rtp_fuzz.cc LIBS media_core)
edgeclass_fuzz(media_rtcp_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_rtcp_fuzz.cc LIBS media_core)
# The Room under simulcast and subscriber feedback (REMB, RR, NACK, PLI, transport-cc).
edgeclass_fuzz(media_feedback_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_feedback_fuzz.cc LIBS media_core)
edgeclass_fuzz(media_sdp_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_sdp_fuzz.cc LIBS media_core)
edgeclass_fuzz(media_transport_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_transport_fuzz.cc LIBS media)
# A relay leg between replicas' SFUs: datagrams routed by SSRC on both sides (sfu/relay.h).
edgeclass_fuzz(media_relay_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/media_relay_fuzz.cc LIBS media)
