/* The capture table (core/trace_caps.h): polts' ts/src/policy/capture.ts, entry for entry,
 * in its order. C-only refinements the formatter does not need to know: poll's size is a
 * count of 8-byte pollfds; a socket address the call writes is as long as the socklen_t it
 * wrote says (vres_arg). */
#include <sys/syscall.h>
#include "core/trace_caps.h"

#define NR_FCHMODAT2 452
#define CAP(n, ...) { .nr = (n), __VA_ARGS__ }
#define PATH(n, a) CAP(n, .arg = a, .dir = TL_CAP_IN, .kind = TL_CAP_PATH)
#define PATH_OUT(n, a) CAP(n, .arg = a, .dir = TL_CAP_OUT, .kind = TL_CAP_PATH)
#define STR(n, a) CAP(n, .arg = a, .dir = TL_CAP_IN, .kind = TL_CAP_STRING)
#define BUFIN(n, a, l) CAP(n, .arg = a, .dir = TL_CAP_IN, .kind = TL_CAP_BUFFER, .len = (l) + 1)
#define BUFOUT(n, a) CAP(n, .arg = a, .dir = TL_CAP_OUT, .kind = TL_CAP_BUFFER, .len = TL_CAP_RET)
#define ST(n, a, d, s) CAP(n, .arg = a, .dir = d, .kind = TL_CAP_STRUCT, .size = s)
#define STARG(n, a, d, s, sa) CAP(n, .arg = a, .dir = d, .kind = TL_CAP_STRUCT, .size = s, .size_arg = (sa) + 1)
#define STIF(n, a, d, s, ia, m, ...) CAP(n, .arg = a, .dir = d, .kind = TL_CAP_STRUCT, .size = s, .if_arg = (ia) + 1, .if_mask = m, \
    .if_n = sizeof((uint32_t[]){ __VA_ARGS__ }) / 4, .if_vals = { __VA_ARGS__ })
#define ADDR_OUT(n, a, la) CAP(n, .arg = a, .dir = TL_CAP_OUT, .kind = TL_CAP_STRUCT, .size = 128, .vres_arg = (la) + 1)
#define IOV(n, d) CAP(n, .arg = 1, .dir = d, .kind = TL_CAP_IOV, .count_arg = 3)
#define IN TL_CAP_IN
#define OUT TL_CAP_OUT

const struct tl_cap tl_caps[] = {
    BUFOUT(SYS_read, 1),
    BUFIN(SYS_write, 1, 2),
    PATH(SYS_open, 0),
    PATH(SYS_creat, 0),
    PATH(SYS_stat, 0), ST(SYS_stat, 1, OUT, 144),
    ST(SYS_fstat, 1, OUT, 144),
    PATH(SYS_lstat, 0), ST(SYS_lstat, 1, OUT, 144),
    PATH(SYS_newfstatat, 1), ST(SYS_newfstatat, 2, OUT, 144),
    PATH(SYS_statx, 1), ST(SYS_statx, 4, OUT, 256),
    PATH(SYS_statfs, 0), ST(SYS_statfs, 1, OUT, 120),
    ST(SYS_fstatfs, 1, OUT, 120),
    CAP(SYS_poll, .arg = 0, .dir = IN, .kind = TL_CAP_STRUCT, .size = 8 * 64, .size_arg = 2, .size_mul = 8),
    CAP(SYS_poll, .arg = 0, .dir = OUT, .kind = TL_CAP_STRUCT, .size = 8 * 64, .size_arg = 2, .size_mul = 8),
    ST(SYS_rt_sigaction, 1, IN, 32), ST(SYS_rt_sigaction, 2, OUT, 32),
    ST(SYS_rt_sigprocmask, 1, IN, 8), ST(SYS_rt_sigprocmask, 2, OUT, 8),
    STIF(SYS_ioctl, 2, OUT, 36, 1, 0, 0x5401),                                    /* TCGETS */
    STIF(SYS_ioctl, 2, IN, 36, 1, 0, 0x5402, 0x5403, 0x5404),                     /* TCSETS* */
    STIF(SYS_ioctl, 2, OUT, 8, 1, 0, 0x5413),                                     /* TIOCGWINSZ */
    STIF(SYS_ioctl, 2, IN, 8, 1, 0, 0x5414),                                      /* TIOCSWINSZ */
    STIF(SYS_ioctl, 2, OUT, 4, 1, 0, 0x540f, 0x5429, 0x5424, 0x5419, 0x80045430, 0x541b, 0x5411, 0x80045440, 0x80045432),
    STIF(SYS_ioctl, 2, IN, 4, 1, 0, 0x5410, 0x5423, 0x5421, 0x5452, 0x5420, 0x541a, 0x40045431),
    BUFOUT(SYS_pread64, 1),
    IOV(SYS_readv, IN), IOV(SYS_readv, OUT),
    IOV(SYS_writev, IN),
    IOV(SYS_preadv, IN), IOV(SYS_preadv, OUT),
    IOV(SYS_pwritev, IN),
    IOV(SYS_preadv2, IN), IOV(SYS_preadv2, OUT),
    IOV(SYS_pwritev2, IN),
    ST(SYS_epoll_ctl, 3, IN, 12),
    CAP(SYS_epoll_wait, .arg = 1, .dir = OUT, .kind = TL_CAP_STRUCT, .size = 12 * 64, .per_ret = 12),
    CAP(SYS_epoll_pwait, .arg = 1, .dir = OUT, .kind = TL_CAP_STRUCT, .size = 12 * 64, .per_ret = 12), ST(SYS_epoll_pwait, 4, IN, 8),
    ST(SYS_sigaltstack, 0, IN, 24), ST(SYS_sigaltstack, 1, OUT, 24),
    CAP(SYS_prctl, .arg = 1, .dir = IN, .kind = TL_CAP_STRING, .if_arg = 1, .if_n = 1, .if_vals = { 15 }),          /* PR_SET_NAME */
    CAP(SYS_prctl, .arg = 1, .dir = OUT, .kind = TL_CAP_STRUCT, .size = 16, .if_arg = 1, .if_n = 1, .if_vals = { 16 }),   /* PR_GET_NAME */
    BUFIN(SYS_pwrite64, 1, 2),
    PATH(SYS_access, 0),
    ST(SYS_pipe, 0, OUT, 8),
    ST(SYS_pipe2, 0, OUT, 8),
    ST(SYS_nanosleep, 0, IN, 16), ST(SYS_nanosleep, 1, OUT, 16),
    STARG(SYS_connect, 1, IN, 128, 2),
    STARG(SYS_bind, 1, IN, 128, 2),
    ST(SYS_accept, 2, IN, 4), ST(SYS_accept, 2, OUT, 4), ADDR_OUT(SYS_accept, 1, 2),
    ST(SYS_accept4, 2, IN, 4), ST(SYS_accept4, 2, OUT, 4), ADDR_OUT(SYS_accept4, 1, 2),
    ST(SYS_getsockname, 2, IN, 4), ST(SYS_getsockname, 2, OUT, 4), ADDR_OUT(SYS_getsockname, 1, 2),
    ST(SYS_getpeername, 2, IN, 4), ST(SYS_getpeername, 2, OUT, 4), ADDR_OUT(SYS_getpeername, 1, 2),
    BUFIN(SYS_sendto, 1, 2), STARG(SYS_sendto, 4, IN, 128, 5),
    BUFOUT(SYS_recvfrom, 1), ST(SYS_recvfrom, 5, IN, 4), ST(SYS_recvfrom, 5, OUT, 4), ADDR_OUT(SYS_recvfrom, 4, 5),
    ST(SYS_socketpair, 3, OUT, 8),
    BUFIN(SYS_setsockopt, 3, 4),
    ST(SYS_getsockopt, 4, IN, 4), ST(SYS_getsockopt, 4, OUT, 4),
    CAP(SYS_getsockopt, .arg = 3, .dir = OUT, .kind = TL_CAP_STRUCT, .size = 64, .vres_arg = 5),
    STIF(SYS_clone, 2, OUT, 4, 0, 0x100000, 0x100000),                            /* CLONE_PARENT_SETTID */
    STARG(SYS_clone3, 0, IN, 88, 1),
    CAP(SYS_clone3, .arg = 0, .dir = OUT, .kind = TL_CAP_DEREF, .offset = 24, .size = 4),
    PATH(SYS_execve, 0), CAP(SYS_execve, .arg = 1, .dir = IN, .kind = TL_CAP_ARGV), CAP(SYS_execve, .arg = 2, .dir = IN, .kind = TL_CAP_COUNT),
    PATH(SYS_execveat, 1), CAP(SYS_execveat, .arg = 2, .dir = IN, .kind = TL_CAP_ARGV), CAP(SYS_execveat, .arg = 3, .dir = IN, .kind = TL_CAP_COUNT),
    ST(SYS_wait4, 1, OUT, 4), ST(SYS_wait4, 3, OUT, 144),
    ST(SYS_uname, 0, OUT, 390),
    PATH(SYS_truncate, 0),
    CAP(SYS_getdents, .arg = 1, .dir = OUT, .kind = TL_CAP_DIRENTS),
    CAP(SYS_getdents64, .arg = 1, .dir = OUT, .kind = TL_CAP_DIRENTS),
    PATH_OUT(SYS_getcwd, 0),
    PATH(SYS_chdir, 0),
    PATH(SYS_rename, 0), PATH(SYS_rename, 1),
    PATH(SYS_mkdir, 0),
    PATH(SYS_rmdir, 0),
    PATH(SYS_link, 0), PATH(SYS_link, 1),
    PATH(SYS_unlink, 0),
    PATH(SYS_symlink, 0), PATH(SYS_symlink, 1),
    PATH(SYS_readlink, 0), BUFOUT(SYS_readlink, 1),
    PATH(SYS_chmod, 0),
    PATH(SYS_chown, 0),
    PATH(SYS_lchown, 0),
    PATH(SYS_utime, 0),
    PATH(SYS_utimes, 0),
    PATH(SYS_mknod, 0),
    PATH(SYS_chroot, 0),
    PATH(SYS_acct, 0),
    PATH(SYS_swapon, 0),
    PATH(SYS_swapoff, 0),
    PATH(SYS_umount2, 0),
    PATH(SYS_mount, 0), PATH(SYS_mount, 1), STR(SYS_mount, 2),
    PATH(SYS_pivot_root, 0), PATH(SYS_pivot_root, 1),
    ST(SYS_gettimeofday, 0, OUT, 16),
    ST(SYS_getrlimit, 1, OUT, 16),
    ST(SYS_setrlimit, 1, IN, 16),
    ST(SYS_getrusage, 1, OUT, 144),
    ST(SYS_sysinfo, 0, OUT, 112),
    STIF(SYS_arch_prctl, 1, OUT, 8, 0, 0, 0x1003, 0x1004),                        /* ARCH_GET_FS, ARCH_GET_GS */
    PATH(SYS_setxattr, 0), STR(SYS_setxattr, 1),
    PATH(SYS_lsetxattr, 0), STR(SYS_lsetxattr, 1),
    PATH(SYS_getxattr, 0), STR(SYS_getxattr, 1), BUFOUT(SYS_getxattr, 2),
    PATH(SYS_lgetxattr, 0), STR(SYS_lgetxattr, 1), BUFOUT(SYS_lgetxattr, 2),
    STR(SYS_fgetxattr, 1), BUFOUT(SYS_fgetxattr, 2),
    PATH(SYS_listxattr, 0),
    PATH(SYS_llistxattr, 0),
    PATH(SYS_removexattr, 0), STR(SYS_removexattr, 1),
    PATH(SYS_lremovexattr, 0), STR(SYS_lremovexattr, 1),
    ST(SYS_time, 0, OUT, 8),
    STIF(SYS_futex, 3, IN, 16, 1, 0x7f, 0, 6, 9, 11, 13),                          /* the commands with a timeout */
    CAP(SYS_sched_getaffinity, .arg = 2, .dir = OUT, .kind = TL_CAP_BYTES, .size = 128),
    ST(SYS_clock_gettime, 1, OUT, 16),
    ST(SYS_clock_getres, 1, OUT, 16),
    ST(SYS_clock_nanosleep, 2, IN, 16), ST(SYS_clock_nanosleep, 3, OUT, 16),
    PATH(SYS_inotify_add_watch, 1),
    PATH(SYS_openat, 1),
    PATH(SYS_openat2, 1), STARG(SYS_openat2, 2, IN, 24, 3),
    PATH(SYS_mkdirat, 1),
    PATH(SYS_mknodat, 1),
    PATH(SYS_fchownat, 1),
    PATH(SYS_futimesat, 1),
    PATH(SYS_unlinkat, 1),
    PATH(SYS_renameat, 1), PATH(SYS_renameat, 3),
    PATH(SYS_renameat2, 1), PATH(SYS_renameat2, 3),
    PATH(SYS_linkat, 1), PATH(SYS_linkat, 3),
    PATH(SYS_symlinkat, 0), PATH(SYS_symlinkat, 2),
    PATH(SYS_readlinkat, 1), BUFOUT(SYS_readlinkat, 2),
    PATH(SYS_fchmodat, 1),
    PATH(NR_FCHMODAT2, 1),
    PATH(SYS_faccessat, 1),
    PATH(SYS_faccessat2, 1),
    PATH(SYS_utimensat, 1),
    PATH(SYS_name_to_handle_at, 1),
    ST(SYS_prlimit64, 2, IN, 16), ST(SYS_prlimit64, 3, OUT, 16),
    BUFOUT(SYS_getrandom, 0),
    STR(SYS_memfd_create, 0),
    PATH(SYS_fanotify_mark, 4),
    PATH(SYS_open_tree, 1),
    PATH(SYS_move_mount, 1), PATH(SYS_move_mount, 3),
    PATH(SYS_fspick, 1),
    PATH(SYS_mount_setattr, 1),
};
const unsigned tl_ncaps = sizeof tl_caps / sizeof tl_caps[0];
