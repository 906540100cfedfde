/* Debian's wasm32 compiler-rt builtins (libclang-rt-14-dev-wasm32) were compiled with
 * -fstack-protector, so the 128-bit division helpers (__umodti3, used by policy's hashing)
 * refer to the stack-protector symbols, which wasi-libc does not define. The module defines
 * them: a smashed canary ends the program. Compiled into every wasm executable
 * (cmake/wasm.cmake, EDGECLASS_WASM_STACK_CHK). */
#include <stdint.h>
#include <stdlib.h>

uintptr_t __stack_chk_guard = 0x2f8a6c1du;

void __stack_chk_fail(void) { abort(); }
