/* A pass-through trapline.h hook: hands every call on unchanged (api->syscall). Used by
 * the benchmark (bench/run.mjs). */
#include "trapline.h"

static const struct trapline_api *T;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

long trapline_hook(struct trapline_call *c)
{
    return T->syscall(c);
}
