/* A hook whose constructor crashes (a write to read-only memory). */
#include "trapline.h"
__attribute__((constructor)) static void boom(void) { *(volatile char *)"read-only" = 1; }
long trapline_hook(struct trapline_call *c) { (void)c; return 0; }
