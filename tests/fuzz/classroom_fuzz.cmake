# classroom: live client frames into a Room with a teacher and students, with the transport's
# store steps (quizzes, answers, chat) on the fuzz world's database.
edgeclass_fuzz(classroom_live_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/classroom_live_fuzz.cc
               LIBS fuzz_world)
