# policy: the Rego parser/compiler/evaluator and the JSON value codec.
edgeclass_fuzz(policy_rego_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/policy_rego_fuzz.cc LIBS policy)
edgeclass_fuzz(policy_eval_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/policy_eval_fuzz.cc LIBS policy)
edgeclass_fuzz(policy_graphql_fuzz SOURCES ${CMAKE_CURRENT_LIST_DIR}/policy_graphql_fuzz.cc LIBS policy)
