/* zppass.c declared free of vector state: built with -mgeneral-regs-only (CMakeLists.txt,
 * hooks named *gr), it exports trapline_hook_flags = TRAPLINE_HOOK_NO_VECTOR, so trapline
 * saves no vector state around it. */
#include "trapline.h"
#include "zppass.c"
const unsigned trapline_hook_flags = TRAPLINE_HOOK_NO_VECTOR;
