/* Native trapline.h hook: counts every call it sees (total, getppid, by trap / fast) and
 * reports on exit_group to stderr; makes getuid return 31337. */
#include <stdio.h>
#include <sys/syscall.h>
#include "trapline.h"

static const struct trapline_api *T;
static long total, ppid, via_trap, via_fast;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

long trapline_hook(struct trapline_call *c)
{
    total++;
    if (c->via == TRAPLINE_VIA_TRAP) via_trap++; else via_fast++;
    if (c->nr == SYS_getppid) ppid++;
    if (c->nr == SYS_getuid) return 31337;
    if (c->nr == SYS_exit_group)
        fprintf(stderr, "counthook: total=%ld getppid=%ld trap=%ld fast=%ld\n", total, ppid, via_trap, via_fast);
    return T->syscall(c);
}
