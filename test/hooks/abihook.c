/* Native trapline.h hook that records the ABI of every call. i386 calls (int $0x80) must
 * arrive marked TRAPLINE_ABI_I386, with 32-bit arguments and the site of an int $0x80;
 * x86-64 calls marked TRAPLINE_ABI_X86_64. Answers i386 getpid(ebx = 0x4242) with 4242
 * itself; passes every other call on (api->syscall performs it in the call's table).
 * Reports at exit_group, x86-64 (231) or i386 (252), on stderr. */
#include <stdio.h>
#include <stdint.h>
#include <sys/syscall.h>
#include "trapline.h"

static const struct trapline_api *T;
static long i386_calls, i386_nr[512], x86_getpid, bad_args, bad_site;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

static void report(void)
{
    fprintf(stderr, "abihook: i386=%ld getpid=%ld write=%ld fork=%ld vfork=%ld clone=%ld exit=%ld exit_group=%ld "
            "bad_args=%ld bad_site=%ld x86_64_getpid=%ld\n", i386_calls, i386_nr[20], i386_nr[4], i386_nr[2],
            i386_nr[190], i386_nr[120], i386_nr[1], i386_nr[252], bad_args, bad_site, x86_getpid);
}

long trapline_hook(struct trapline_call *c)
{
    if (c->abi == TRAPLINE_ABI_I386) {
        i386_calls++;
        if (c->nr >= 0 && c->nr < 512) i386_nr[c->nr]++;
        for (int i = 0; i < 6; i++) if ((unsigned long)c->args[i] > 0xffffffffUL) bad_args++;
        const uint8_t *s = (const uint8_t *)c->site;
        if (s[0] != 0xcd || s[1] != 0x80 || c->via != TRAPLINE_VIA_TRAP) bad_site++;
        if (c->nr == 20 && c->args[0] == 0x4242) return 4242;
        if (c->nr == 252) report();
    } else {
        if (c->abi != TRAPLINE_ABI_X86_64) bad_site++;
        if (c->nr == SYS_getpid) x86_getpid++;
        if (c->nr == SYS_exit_group) report();
    }
    return T->syscall(c);
}
