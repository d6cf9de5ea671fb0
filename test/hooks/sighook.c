/* On getppid, raises SIGUSR1 from inside the hook (while the selector is ALLOW), so the
 * program's handler runs in the middle of the hook; counts the getpid calls it sees and
 * reports them on exit_group. The program's handler calls getpid: it must be seen. */
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "trapline.h"

static const struct trapline_api *T;
static long getpids;

int trapline_init(const struct trapline_api *api) { T = api; return 0; }

long trapline_hook(struct trapline_call *c)
{
    if (c->nr == SYS_getpid) getpids++;
    if (c->nr == SYS_getppid) syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
    if (c->nr == SYS_exit_group) fprintf(stderr, "sighook: getpid=%ld\n", getpids);
    return T->syscall(c);
}
