/* A hook whose init refuses to start. */
#include "trapline.h"
int trapline_init(const struct trapline_api *api) { (void)api; return 7; }
long trapline_hook(struct trapline_call *c) { (void)c; return 0; }
