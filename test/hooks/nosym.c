/* A library that is not a hook: exports neither trapline_hook nor __hook_init. */
int not_a_hook(void) { return 1; }
