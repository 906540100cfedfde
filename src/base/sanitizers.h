// Whether this build runs under AddressSanitizer: EDGECLASS_UNDER_ASAN is defined then (GCC says
// so with __SANITIZE_ADDRESS__, clang with __has_feature). For the few tests that cannot run
// there (an address-space limit, a handler of SIGSEGV).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define EDGECLASS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGECLASS_UNDER_ASAN 1
#endif
#endif
