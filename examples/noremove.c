/* noremove: a trapline hook that keeps a program from deleting anything.
 *
 * unlink, unlinkat and rmdir fail with EPERM, as if the file system said no, and the hook
 * says so on stderr; every other system call runs unchanged.
 *
 * Build (from the package root; see examples/README.md):
 *   cc -shared -fPIC -O2 -Wall -I include -o noremove.so examples/noremove.c
 * Run:
 *   trapline run --hook ./noremove.so -- rm somefile
 */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include "trapline.h"

/* The same calls in the i386 table, for programs that make 32-bit calls (int $0x80). */
#define I386_UNLINK   10
#define I386_RMDIR    40
#define I386_UNLINKAT 301

static const struct trapline_api *T;

/* Called once, before the program's main; non-zero would stop the program. */
int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

/* The name of a removal call, or NULL for any other call. */
static const char *removal(const struct trapline_call *c)
{
    if (c->abi == TRAPLINE_ABI_I386)
        return c->nr == I386_UNLINK ? "unlink" : c->nr == I386_RMDIR ? "rmdir" : c->nr == I386_UNLINKAT ? "unlinkat" : NULL;
    return c->nr == SYS_unlink ? "unlink" : c->nr == SYS_rmdir ? "rmdir" : c->nr == SYS_unlinkat ? "unlinkat" : NULL;
}

/* Called for every system call the program makes, in every thread and child process.
 * The hook's own calls (fprintf here) go straight to the kernel. */
long trapline_hook(struct trapline_call *c)
{
    const char *name = removal(c);
    if (name) {
        fprintf(stderr, "noremove: refused %s\n", name);
        return -EPERM;                 /* the call is not made; the program sees EPERM */
    }
    return T->syscall(c);              /* run the call as the program made it */
}
