/* Pointer arguments into page 0, when page 0 is readable (--allow-null-reads on a CPU
 * without protection keys).
 *
 * Natively a system call given a NULL or small pointer finds nothing mapped there and
 * fails with EFAULT at the point where it touches it. With the trampoline readable at 0,
 * the kernel would read sled bytes instead: `chdir(NULL)` would look up a path made of
 * them, `setdomainname(NULL, 8)` would set them as the domain name. For the calls in the
 * table below, such an argument is replaced, for the call only, by the same offset into a
 * page of ours that is mapped PROT_NONE: the kernel accepts the address as a user address,
 * runs all its other checks first, exactly as natively, and fails the access with EFAULT
 * (a length of 0 touches nothing there either, as natively). The program's registers are
 * not changed.
 *
 * `must`: the argument is always dereferenced when the call gets that far, so NULL is
 * replaced too; `ptr`: a pointer that may be NULL to mean "none", so only 1..4095 are
 * replaced. Calls not listed, and pointers inside structures (an iovec's base, a msghdr's
 * fields), are not covered: see docs/design.md. In every other mode page 0 is unmapped or
 * execute-only and the kernel itself gives EFAULT. */
#include "core/core.h"
#include <sys/mman.h>

#define A0 1
#define A1 2
#define A2 4
#define A3 8
#define A4 16
#define A5 32

static const struct {
    short nr;
    uint8_t must, ptr;
} table[] = {
    {SYS_read, A1, 0},
    {SYS_write, A1, 0},
    {SYS_open, A0, 0},
    {SYS_stat, A0 | A1, 0},
    {SYS_fstat, A1, 0},
    {SYS_lstat, A0 | A1, 0},
    {SYS_poll, A0, 0},
    {SYS_pread64, A1, 0},
    {SYS_pwrite64, A1, 0},
    {SYS_readv, A1, 0},
    {SYS_writev, A1, 0},
    {SYS_access, A0, 0},
    {SYS_pipe, A0, 0},
    {SYS_select, 0, A1 | A2 | A3 | A4},
    {SYS_mincore, A2, 0},
    {SYS_shmctl, 0, A2},
    {SYS_nanosleep, A0, A1},
    {SYS_getitimer, A1, 0},
    {SYS_setitimer, 0, A1 | A2},
    {SYS_sendfile, 0, A2},
    {SYS_connect, A1, 0},
    {SYS_accept, 0, A1 | A2},
    {SYS_sendto, A1, A4},
    {SYS_recvfrom, A1, A4 | A5},
    {SYS_sendmsg, A1, 0},
    {SYS_recvmsg, A1, 0},
    {SYS_bind, A1, 0},
    {SYS_getsockname, A1 | A2, 0},
    {SYS_getpeername, A1 | A2, 0},
    {SYS_socketpair, A3, 0},
    {SYS_setsockopt, 0, A3},
    {SYS_getsockopt, 0, A3 | A4},
    {SYS_wait4, 0, A1 | A3},
    {SYS_uname, A0, 0},
    {SYS_semop, A1, 0},
    {SYS_msgsnd, A1, 0},
    {SYS_msgrcv, A1, 0},
    {SYS_msgctl, 0, A2},
    {SYS_truncate, A0, 0},
    {SYS_getdents, A1, 0},
    {SYS_getcwd, A0, 0},
    {SYS_chdir, A0, 0},
    {SYS_rename, A0 | A1, 0},
    {SYS_mkdir, A0, 0},
    {SYS_rmdir, A0, 0},
    {SYS_creat, A0, 0},
    {SYS_link, A0 | A1, 0},
    {SYS_unlink, A0, 0},
    {SYS_symlink, A0 | A1, 0},
    {SYS_readlink, A0 | A1, 0},
    {SYS_chmod, A0, 0},
    {SYS_chown, A0, 0},
    {SYS_lchown, A0, 0},
    {SYS_gettimeofday, 0, A0 | A1},
    {SYS_getrlimit, A1, 0},
    {SYS_getrusage, A1, 0},
    {SYS_sysinfo, A0, 0},
    {SYS_times, 0, A0},
    {SYS_syslog, 0, A1},
    {SYS_getgroups, 0, A1},
    {SYS_setgroups, 0, A1},
    {SYS_getresuid, A0 | A1 | A2, 0},
    {SYS_getresgid, A0 | A1 | A2, 0},
    {SYS_rt_sigpending, A0, 0},
    {SYS_rt_sigtimedwait, A0, A1 | A2},
    {SYS_rt_sigqueueinfo, A2, 0},
    {SYS_rt_sigsuspend, A0, 0},
    {SYS_utime, A0, A1},
    {SYS_mknod, A0, 0},
    {SYS_ustat, A1, 0},
    {SYS_statfs, A0 | A1, 0},
    {SYS_fstatfs, A1, 0},
    {SYS_sched_setparam, A1, 0},
    {SYS_sched_getparam, A1, 0},
    {SYS_sched_setscheduler, A2, 0},
    {SYS_sched_rr_get_interval, A1, 0},
    {SYS_pivot_root, A0 | A1, 0},
    {SYS_adjtimex, A0, 0},
    {SYS_setrlimit, A1, 0},
    {SYS_chroot, A0, 0},
    {SYS_settimeofday, 0, A0 | A1},
    {SYS_mount, A1, A0 | A2 | A4},
    {SYS_umount2, A0, 0},
    {SYS_swapon, A0, 0},
    {SYS_swapoff, A0, 0},
    {SYS_sethostname, A0, 0},
    {SYS_setdomainname, A0, 0},
    {SYS_init_module, A0, A2},
    {SYS_delete_module, A0, 0},
    {SYS_setxattr, A0 | A1, A2},
    {SYS_lsetxattr, A0 | A1, A2},
    {SYS_fsetxattr, A1, A2},
    {SYS_getxattr, A0 | A1, A2},
    {SYS_lgetxattr, A0 | A1, A2},
    {SYS_fgetxattr, A1, A2},
    {SYS_listxattr, A0, A1},
    {SYS_llistxattr, A0, A1},
    {SYS_flistxattr, 0, A1},
    {SYS_removexattr, A0 | A1, 0},
    {SYS_lremovexattr, A0 | A1, 0},
    {SYS_fremovexattr, A1, 0},
    {SYS_time, 0, A0},
    {SYS_sched_setaffinity, A2, 0},
    {SYS_sched_getaffinity, A2, 0},
    {SYS_io_setup, A1, 0},
    {SYS_getdents64, A1, 0},
    {SYS_timer_create, A2, A1},
    {SYS_timer_settime, A2, A3},
    {SYS_timer_gettime, A1, 0},
    {SYS_clock_settime, A1, 0},
    {SYS_clock_gettime, A1, 0},
    {SYS_clock_getres, 0, A1},
    {SYS_clock_nanosleep, A2, A3},
    {SYS_epoll_wait, A1, 0},
    {SYS_epoll_ctl, 0, A3},
    {SYS_utimes, A0, A1},
    {SYS_mq_open, A0, A3},
    {SYS_mq_unlink, A0, 0},
    {SYS_mq_timedsend, A1, A4},
    {SYS_mq_timedreceive, A1, A3 | A4},
    {SYS_waitid, 0, A2 | A4},
    {SYS_inotify_add_watch, A1, 0},
    {SYS_openat, A1, 0},
    {SYS_mkdirat, A1, 0},
    {SYS_mknodat, A1, 0},
    {SYS_fchownat, A1, 0},
    {SYS_futimesat, 0, A1 | A2},
    {SYS_newfstatat, A1 | A2, 0},
    {SYS_unlinkat, A1, 0},
    {SYS_renameat, A1 | A3, 0},
    {SYS_linkat, A1 | A3, 0},
    {SYS_symlinkat, A0 | A2, 0},
    {SYS_readlinkat, A1 | A2, 0},
    {SYS_fchmodat, A1, 0},
    {SYS_faccessat, A1, 0},
    {SYS_pselect6, 0, A1 | A2 | A3 | A4 | A5},
    {SYS_ppoll, A0, A2 | A3},
    {SYS_splice, 0, A1 | A3},
    {SYS_utimensat, 0, A1 | A2},
    {SYS_epoll_pwait, A1, A4},
    {SYS_signalfd, A1, 0},
    {SYS_timerfd_settime, A2, A3},
    {SYS_timerfd_gettime, A1, 0},
    {SYS_accept4, 0, A1 | A2},
    {SYS_signalfd4, A1, 0},
    {SYS_pipe2, A0, 0},
    {SYS_preadv, A1, 0},
    {SYS_pwritev, A1, 0},
    {SYS_rt_tgsigqueueinfo, A3, 0},
    {SYS_perf_event_open, A0, 0},
    {SYS_recvmmsg, A1, A4},
    {SYS_prlimit64, 0, A2 | A3},
    {SYS_name_to_handle_at, A1 | A2 | A3, 0},
    {SYS_open_by_handle_at, A1, 0},
    {SYS_clock_adjtime, A1, 0},
    {SYS_sendmmsg, A1, 0},
    {SYS_getcpu, 0, A0 | A1 | A2},
    {SYS_finit_module, A1, 0},
    {SYS_sched_setattr, A1, 0},
    {SYS_sched_getattr, A1, 0},
    {SYS_renameat2, A1 | A3, 0},
    {SYS_getrandom, A0, 0},
    {SYS_memfd_create, A0, 0},
    {SYS_bpf, A1, 0},
    {SYS_statx, A1 | A4, 0},
    {428 /* open_tree */, A1, 0},
    {429 /* move_mount */, A1 | A3, 0},
    {430 /* fsopen */, A0, 0},
    {433 /* fspick */, A1, 0},
    {437 /* openat2 */, A1 | A2, 0},
    {439 /* faccessat2 */, A1, 0},
    {441 /* epoll_pwait2 */, A1, A3 | A4},
    {442 /* mount_setattr */, A1 | A3, 0},
    {452 /* fchmodat2 */, A1, 0},
};

static uint8_t must[TL_NR_MAX], ptr[TL_NR_MAX];
static uint64_t none_page; /* two PROT_NONE pages standing for page 0 */
int tl_nullargs_on;

/* Called once the mode is known; marks the listed calls for the fast path (tl_special:
 * TL_SPECIAL_C = always to C, TL_SPECIAL_ARG(i) = argument i to check first). */
int tl_nullargs_init(int page0_readable, uint64_t none)
{
    if (!page0_readable) return 0;
    long p =
        none ? (long)none : tl_sys6(SYS_mmap, 0, TL_NULLARGS_NONE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p < 0 && p > -4096) return -1;
    none_page = (uint64_t)p;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
        int nr = table[i].nr;
        must[nr] = table[i].must;
        ptr[nr] = table[i].ptr | table[i].must;
        tl_special[nr] |= (uint8_t)(ptr[nr] << TL_SPECIAL_ARGS_SHIFT);
    }
    tl_nullargs_on = 1;
    return 0;
}

/* Replaces f's arguments that point into page 0 (see above); their values go to saved.
 * Returns the mask of replaced arguments (0: nothing changed). */
unsigned tl_nullargs_fix(long nr, uint64_t *args[6], uint64_t saved[6])
{
    if (!tl_nullargs_on || (unsigned long)nr >= TL_NR_MAX || !ptr[nr]) return 0;
    unsigned done = 0;
    for (int i = 0; i < 6; i++) {
        if (!(ptr[nr] & (1u << i))) continue;
        uint64_t v = *args[i];
        if (v >= 4096 || (v == 0 && !(must[nr] & (1u << i)))) continue;
        saved[i] = v;
        *args[i] = none_page + v;
        done |= 1u << i;
    }
    return done;
}

void tl_nullargs_restore(uint64_t *args[6], const uint64_t saved[6], unsigned done)
{
    for (int i = 0; i < 6; i++)
        if (done & (1u << i)) *args[i] = saved[i];
}
