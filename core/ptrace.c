/* A program that traces its own (interposed) children must not see the SIGSYS
 * signal-delivery-stops our Syscall User Dispatch causes in them: natively there are none.
 * The tracer's wait4 recognises such a stop and resumes the tracee with the signal, as the
 * tracer itself last resumed it (PTRACE_CONT, PTRACE_SYSCALL, ...), then waits again.
 *
 * A stop is ours when: it is a signal-delivery-stop for SIGSYS; its siginfo has si_code
 * SYS_USER_DISPATCH; the tracee stopped at the call itself (rip == si_call_addr: the
 * kernel's SUD, not a SIGSYS the tracee's own emulated SUD raised from our code); and the
 * tracee's SUD configuration (PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG) allows a range
 * that is our library's code in the tracee. See docs/design.md. */
#include "core/core.h"
#include <errno.h>
#include <sys/wait.h>
#include <sys/ptrace.h>
#include <sys/user.h>

struct sud_config_ {
    uint64_t mode, selector, offset, len;
}; /* struct ptrace_sud_config */

static struct {
    int pid;
    int req;
} last[256] TL_COLD; /* the tracer's last resume per tracee */
static int lock;

static int resume_request(long req)
{
    return req == PTRACE_CONT || req == PTRACE_SYSCALL || req == PTRACE_SINGLESTEP || req == PTRACE_SYSEMU ||
        req == PTRACE_SYSEMU_SINGLESTEP;
}

long tl_ptrace_call(long req, long pid, long addr, long data)
{
    long r = tl_sys4(SYS_ptrace, req, pid, addr, data);
    if (r == 0 && resume_request((int)req)) {
        tl_spin_lock(&lock);
        unsigned h = (unsigned)pid % 256;
        last[h].pid = (int)pid;
        last[h].req = (int)req;
        tl_spin_unlock(&lock);
    }
    return r;
}

int tl_ptrace_hide_stop(long pid, int status)
{
    if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSYS || (status >> 16)) return 0; /* no PTRACE_EVENT */
    siginfo_t si;
    if (tl_sys4(SYS_ptrace, PTRACE_GETSIGINFO, pid, 0, &si) != 0 || si.si_code != TL_SI_SYS_USER_DISPATCH) return 0;
    uint64_t rip = 0;
    /* PTRACE_PEEKUSER: the raw call stores the word at *data */
    if (tl_sys4(SYS_ptrace, PTRACE_PEEKUSER, pid, offsetof(struct user, regs.rip), &rip) != 0) return 0;
    if (rip != (uint64_t)si.si_call_addr) return 0;
    struct sud_config_ cfg;
    if (tl_sys4(SYS_ptrace, TL_PTRACE_GET_SUD_CONFIG, pid, sizeof cfg, &cfg) != 0 || cfg.mode == 0) return 0;
    struct tl_mapping m;
    const char *self = tl_self_path();
    if (!self[0] || tl_maps_find_pid((int)pid, cfg.offset, &m) != 0 || !tl_streq(m.path, self)) return 0;
    int req = PTRACE_CONT;
    tl_spin_lock(&lock);
    unsigned h = (unsigned)pid % 256;
    if (last[h].pid == (int)pid) req = last[h].req;
    tl_spin_unlock(&lock);
    return tl_sys4(SYS_ptrace, req, pid, 0, SIGSYS) == 0;
}
