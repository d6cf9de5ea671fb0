/* counthook.c declared free of vector state (TRAPLINE_HOOK_NO_VECTOR, built with
 * -mgeneral-regs-only: CMakeLists.txt, hooks named *gr). Counts every call it sees (total,
 * getppid, by trap / fast), makes getuid return 31337, and reports at exit_group on
 * stderr, formatting by hand and writing through api->syscall: no libc function that may
 * use vector registers. */
#include <sys/syscall.h>
#include "trapline.h"

const unsigned trapline_hook_flags = TRAPLINE_HOOK_NO_VECTOR;
static const struct trapline_api *T;
static long total, ppid, via_trap, via_fast;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

static char *put(char *p, const char *s, long v)
{
    while (*s) *p++ = *s++;
    char d[24];
    int n = 0;
    do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = d[--n];
    return p;
}

long trapline_hook(struct trapline_call *c)
{
    total++;
    if (c->via == TRAPLINE_VIA_TRAP) via_trap++; else via_fast++;
    if (c->nr == SYS_getppid) ppid++;
    if (c->nr == SYS_getuid) return 31337;
    if (c->nr == SYS_exit_group) {
        char buf[128], *p = buf;
        p = put(p, "countgr: total=", total);
        p = put(p, " getppid=", ppid);
        p = put(p, " trap=", via_trap);
        p = put(p, " fast=", via_fast);
        *p++ = '\n';
        struct trapline_call w = { SYS_write, { 2, (long)buf, p - buf, 0, 0, 0 }, c->site, c->via, TRAPLINE_ABI_X86_64 };
        T->syscall(&w);
    }
    return T->syscall(c);
}
