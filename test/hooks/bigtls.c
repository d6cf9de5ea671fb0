/* A pass-through trapline.h hook with 20 MiB of thread-local data, written in
 * trapline_init: its dynamic TLS block is allocated by the loader while the hook loads,
 * more than trapline's arena for those allocations holds (sud/boot.c), which must then
 * fall back to the program's malloc rather than fail. */
#include <stdio.h>
#include <string.h>
#include "trapline.h"

static const struct trapline_api *T;
static __thread char big[20 << 20];

int trapline_init(const struct trapline_api *api)
{
    T = api;
    memset(big, 1, sizeof big);
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

long trapline_hook(struct trapline_call *c)
{
    if (c->nr == 231 /* exit_group */) fprintf(stderr, "bigtls: %d\n", big[sizeof big - 1]);
    return T->syscall(c);
}
