/* A pass-through trapline.h hook whose trapline_hook is an IFUNC (one clone per CPU
 * level, picked by a resolver when the symbol is looked up): the loader's lookup must
 * give the resolved function, not the resolver. Says on exit_group how many calls it saw. */
#include <stdio.h>
#include <sys/syscall.h>
#include "trapline.h"

static const struct trapline_api *T;
static long seen;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

__attribute__((target_clones("avx2", "default"))) long trapline_hook(struct trapline_call *c)
{
    seen++;
    if (c->nr == SYS_exit_group) fprintf(stderr, "ifunchook: seen=%ld\n", seen);
    return T->syscall(c);
}
