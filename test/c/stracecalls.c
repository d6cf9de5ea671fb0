// Makes known system calls with known arguments and records each one as trapline's core
// would (number, arguments, raw result, and the memory the kernel read or wrote, captured as
// ts/src/policy/capture.ts says), so that test/policy-format.test.ts can format the records
// and compare them, line for line, with strace's output for the same run.
//
// usage: stracecalls LOG DIR [STRSIZE]
//   LOG: where the records go (written after the calls: "E nr ret a0..a5 pid tid" for a call,
//        "D arg in|out truncated hex" for each captured piece of memory after it)
//   DIR: an empty directory to work in
// The recorded calls lie between close(-9999) and close(-9998) (also recorded). Children
// append their records to LOG. Finally the program execs /bin/true (recorded first).
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <linux/close_range.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static size_t strsize = 32;
static char logbuf[1 << 22];
static size_t loglen;
static const char *logpath;

static long sc(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(logbuf + loglen, sizeof logbuf - loglen, fmt, ap);
  va_end(ap);
  if (n > 0) loglen += (size_t)n;
}

/* A call: make it, record it, return its raw result. */
static long args[6];
static long mypid, mytid;
static long call(long n, long a, long b, long c, long d, long e, long f) {
  long r = sc(n, a, b, c, d, e, f);
  args[0] = a, args[1] = b, args[2] = c, args[3] = d, args[4] = e, args[5] = f;
  /* strace shows clone's result in the parent only; the child learns its id from its first call */
  if ((n == SYS_clone || n == SYS_clone3) && r == 0) {
    mypid = mytid = 0;
    return r;
  }
  if (n == SYS_gettid && mytid == 0) mypid = mytid = r;
  out("E %ld %ld %lx %lx %lx %lx %lx %lx %ld %ld\n", n, r, a, b, c, d, e, f, mypid, mytid);
  return r;
}
#define C0(n) call(n, 0, 0, 0, 0, 0, 0)
#define C1(n, a) call(n, (long)(a), 0, 0, 0, 0, 0)
#define C2(n, a, b) call(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define C3(n, a, b, c) call(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define C4(n, a, b, c, d) call(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define C5(n, a, b, c, d, e) call(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define C6(n, a, b, c, d, e, f) call(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* captured memory of the last call */
static void data(int arg, const char *dir, const void *p, size_t len, int truncated) {
  out("D %d %s %d ", arg, dir, truncated);
  for (size_t i = 0; i < len; i++) out("%02x", ((const unsigned char *)p)[i]);
  out("\n");
}
/* a path the kernel read: whole, up to 4096 bytes */
static void path(int arg) {
  const char *p = (const char *)args[arg];
  if (!p) return;
  size_t n = strnlen(p, 4096);
  data(arg, "in", p, n, n == 4096);
}
/* a string the kernel read, up to strsize */
static void str(int arg) {
  const char *p = (const char *)args[arg];
  if (!p) return;
  size_t n = strnlen(p, strsize + 1);
  data(arg, "in", p, n > strsize ? strsize : n, n > strsize);
}
/* a buffer of len bytes the kernel read (in) or wrote (out), up to strsize */
static void buf(int arg, const char *dir, long len) {
  if (len < 0 || !args[arg]) return;
  data(arg, dir, (const void *)args[arg], (size_t)len > strsize ? strsize : (size_t)len, (size_t)len > strsize);
}
/* a struct of size bytes */
static void st(int arg, const char *dir, size_t size) {
  if (!args[arg]) return;
  data(arg, dir, (const void *)args[arg], size, 0);
}
/* argv: each element up to strsize+1 bytes and a NUL, at most strsize elements */
static void argv_(int arg) {
  char **v = (char **)args[arg];
  char tmp[65536];
  size_t len = 0, n = 0;
  for (; v[n] && n < strsize; n++) {
    size_t l = strnlen(v[n], strsize + 1);
    memcpy(tmp + len, v[n], l);
    len += l;
    tmp[len++] = 0;
  }
  data(arg, "in", tmp, len, v[n] != NULL);
}
/* an iovec array (capture.ts's iov encoding); contents: 0 none, else up to total bytes (-1: all) */
static void iov_(int arg, const char *dir, int contents, long total) {
  struct iovec *v = (struct iovec *)args[arg];
  long cnt = args[arg + 1], k;
  static char tmp[65536];
  size_t len = 0;
  for (k = 0; k < cnt && (size_t)k < strsize; k++) {
    uint64_t base = (uint64_t)v[k].iov_base, l = v[k].iov_len;
    uint32_t n = 0;
    if (contents) {
      uint64_t avail = l;
      if (total >= 0 && avail > (uint64_t)total) avail = (uint64_t)total;
      if (total >= 0) total -= (long)avail;
      n = (uint32_t)(avail > strsize ? strsize : avail);
    }
    memcpy(tmp + len, &base, 8);
    memcpy(tmp + len + 8, &l, 8);
    memcpy(tmp + len + 16, &n, 4);
    memcpy(tmp + len + 20, v[k].iov_base, n);
    len += 20 + n;
  }
  data(arg, dir, tmp, len, k < cnt);
}
/* envp: the count of its elements, as a little-endian u32 */
static void envc(int arg) {
  char **v = (char **)args[arg];
  uint32_t n = 0;
  while (v[n]) n++;
  data(arg, "in", &n, 4, 0);
}

static void flush(void) {
  int fd = (int)sc(SYS_openat, AT_FDCWD, (long)logpath, O_WRONLY | O_APPEND | O_CREAT, 0644, 0, 0);
  for (size_t off = 0; off < loglen;) {
    long n = sc(SYS_write, fd, (long)(logbuf + off), (long)(loglen - off), 0, 0, 0);
    if (n <= 0) break;
    off += (size_t)n;
  }
  sc(SYS_close, fd, 0, 0, 0, 0, 0);
  loglen = 0;
}

static struct { void *next; long off; void *pending; } robust = { &robust, 0, NULL };
static int futex_word = 5;
static int tid_word;

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  logpath = argv[1];
  const char *dir = argv[2];
  if (argc > 3) strsize = (size_t)atol(argv[3]);
  char p1[512], p2[512], p3[512], rd[8192];
  struct stat sb;
  snprintf(p1, sizeof p1, "%s/file.txt", dir);
  snprintf(p2, sizeof p2, "%s/sub", dir);
  snprintf(p3, sizeof p3, "%s/link", dir);
  static unsigned char bin[100];
  for (int i = 0; i < 100; i++) bin[i] = (unsigned char)(i * 37 + 1);
  memcpy(bin, "\"quoted\\\t\n\r\v\f\0" "01\377\200", 20);

  mypid = getpid();
  mytid = gettid();
  C1(SYS_close, -9999);

  /* start-up of a dynamically linked program */
  long brk0 = C1(SYS_brk, 0);
  (void)brk0;
  long anon = C6(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  C2(SYS_access, "/nonexistent/ld.so.preload", R_OK);
  path(0);
  C2(SYS_access, "/etc/passwd", F_OK);
  path(0);
  C2(SYS_access, "/etc/passwd", R_OK | W_OK | X_OK);
  path(0);
  long fd = C4(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC, 0);
  path(1);
  C4(SYS_newfstatat, fd, "", &sb, AT_EMPTY_PATH);
  path(1), st(2, "out", sizeof sb);
  C2(SYS_fstat, fd, &sb);
  st(1, "out", sizeof sb);
  long n = C3(SYS_read, fd, rd, 832);
  buf(1, "out", n);
  n = C4(SYS_pread64, fd, rd, 16, 4);
  buf(1, "out", n);
  C3(SYS_lseek, fd, 0, SEEK_SET);
  C3(SYS_lseek, fd, -10, SEEK_END);
  C3(SYS_lseek, fd, 5, SEEK_CUR);
  long map = C6(SYS_mmap, 0, 8192, PROT_READ, MAP_PRIVATE | MAP_DENYWRITE, fd, 0);
  C6(SYS_mmap, map + 4096, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, 0x1000);
  C3(SYS_mprotect, map, 4096, PROT_NONE);
  C3(SYS_mprotect, map, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
  C3(SYS_madvise, map, 4096, MADV_DONTNEED);
  C2(SYS_munmap, map, 8192);
  C1(SYS_close, fd);
  C4(SYS_openat, AT_FDCWD, "/nonexistent", O_RDONLY, 0);
  path(1);
  C2(SYS_open, "/nonexistent/x", O_RDWR | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW);
  path(0);
  C2(SYS_munmap, anon, 8192);

  /* glibc's thread set-up */
  unsigned long fsbase;
  C2(SYS_arch_prctl, ARCH_GET_FS, &fsbase);
  st(1, "out", 8);
  C1(SYS_set_tid_address, &tid_word);
  C2(SYS_set_robust_list, &robust, 24);
  C4(SYS_rseq, &robust, 0x20, 0, 0x53053053);
  struct rlimit64 { uint64_t cur, max; } rl, rl2 = { 1024, 4096 };
  C4(SYS_prlimit64, 0, RLIMIT_STACK, 0, &rl);
  st(3, "out", sizeof rl);
  C4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &rl);
  st(3, "out", sizeof rl);
  C4(SYS_prlimit64, 0, RLIMIT_CORE, 0, &rl);
  st(3, "out", sizeof rl);
  C4(SYS_prlimit64, 0, RLIMIT_MSGQUEUE, &rl2, 0);
  st(2, "in", sizeof rl2);
  C4(SYS_prlimit64, 0, RLIMIT_MSGQUEUE, 0, &rl);
  st(3, "out", sizeof rl);
  n = C3(SYS_getrandom, rd, 8, GRND_NONBLOCK);
  buf(0, "out", n);
  C6(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 2147483647, 0, 0, 0);
  C6(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 4, 0, 0, 0);
  struct timespec ts = { 1, 500 };
  C6(SYS_futex, &futex_word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 4, &ts, 0, FUTEX_BITSET_MATCH_ANY);
  st(3, "in", sizeof ts);

  /* files */
  fd = C4(SYS_openat, AT_FDCWD, p1, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  path(1);
  n = C3(SYS_write, fd, "hello\n", 6);
  buf(1, "in", 6);
  n = C3(SYS_write, fd, bin, sizeof bin);
  buf(1, "in", sizeof bin);
  n = C3(SYS_write, fd, "", 0);
  buf(1, "in", 0);
  C1(SYS_close, fd);
  fd = C2(SYS_open, p1, O_RDONLY);
  path(0);
  n = C3(SYS_read, fd, rd, 6);
  buf(1, "out", n);
  n = C3(SYS_read, fd, rd, sizeof rd);
  buf(1, "out", n);
  n = C3(SYS_read, fd, rd, sizeof rd);
  buf(1, "out", n);
  C3(SYS_read, 9999, rd, 10);
  C3(SYS_fcntl, fd, F_GETFD, 0);
  C3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  C3(SYS_fcntl, fd, F_GETFD, 0);
  C3(SYS_fcntl, fd, F_GETFL, 0);
  C3(SYS_fcntl, fd, F_SETFL, O_RDONLY | O_NONBLOCK);
  C3(SYS_fcntl, fd, F_GETFL, 0);
  long fd2 = C3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 20);
  C1(SYS_close, fd2);
  fd2 = C1(SYS_dup, fd);
  C2(SYS_dup2, fd, 30);
  C3(SYS_dup3, fd, 31, O_CLOEXEC);
  C1(SYS_close, 30);
  C1(SYS_close, 31);
  C1(SYS_close, fd2);
  C1(SYS_close, fd);
  C2(SYS_stat, p1, &sb);
  path(0), st(1, "out", sizeof sb);
  C2(SYS_lstat, "/nonexistent", &sb);
  path(0);
  C4(SYS_newfstatat, AT_FDCWD, "/", &sb, 0);
  path(1), st(2, "out", sizeof sb);
  C4(SYS_newfstatat, AT_FDCWD, "/dev/null", &sb, AT_SYMLINK_NOFOLLOW);
  path(1), st(2, "out", sizeof sb);
  struct statx stx;
  C5(SYS_statx, AT_FDCWD, p1, AT_STATX_SYNC_AS_STAT | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
     STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_MTIME | STATX_SIZE, &stx);
  path(1), st(4, "out", sizeof stx);
  C5(SYS_statx, AT_FDCWD, "/nonexistent", AT_STATX_SYNC_AS_STAT, STATX_ALL, &stx);
  path(1);
  static char sfs[120];
  C2(SYS_statfs, "/", sfs);
  path(0), st(1, "out", sizeof sfs);
  C2(SYS_statfs, "/nonexistent", sfs);
  path(0);
  C2(SYS_fstatfs, 0, sfs);
  st(1, "out", sizeof sfs);
  C2(SYS_mkdir, p2, 0755);
  path(0);
  C3(SYS_mkdirat, AT_FDCWD, p2, 0700);
  path(1);
  C2(SYS_symlink, "file.txt", p3);
  path(0), path(1);
  n = C3(SYS_readlink, p3, rd, sizeof rd);
  path(0), buf(1, "out", n);
  n = C4(SYS_readlinkat, AT_FDCWD, p3, rd, 4);
  path(1), buf(2, "out", n);
  C2(SYS_chmod, p1, 0600);
  path(0);
  C4(SYS_faccessat2, AT_FDCWD, p1, W_OK, AT_EACCESS);
  path(1);
  C3(SYS_faccessat, AT_FDCWD, p1, R_OK);
  path(1);
  long dfd = C4(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY, 0);
  path(1);
  n = C3(SYS_getdents64, dfd, rd, sizeof rd);
  if (n > 0) data(1, "out", rd, (size_t)n, 0);
  n = C3(SYS_getdents64, dfd, rd, sizeof rd);
  C1(SYS_close, dfd);
  C1(SYS_unlink, p3);
  path(0);
  C3(SYS_unlinkat, AT_FDCWD, p2, AT_REMOVEDIR);
  path(1);
  C1(SYS_rmdir, "/nonexistent");
  path(0);
  C2(SYS_rename, "/nonexistent/a", "/nonexistent/b");
  path(0), path(1);
  n = C2(SYS_getcwd, rd, sizeof rd);
  if (n > 0) data(0, "out", rd, (size_t)n - 1, 0);
  long mfd = C2(SYS_memfd_create, "trapline-test", MFD_CLOEXEC);
  str(0);
  C2(SYS_ftruncate, mfd, 4096);
  C1(SYS_close, mfd);
  C1(SYS_chdir, "/");
  path(0);
  C1(SYS_umask, 022);
  C1(SYS_umask, 022);
  int pfd[2];
  C2(SYS_pipe2, pfd, O_CLOEXEC);
  st(0, "out", sizeof pfd);
  struct pollfd pl = { pfd[0], POLLIN, 0 };
  C3(SYS_poll, &pl, 1, 0);
  st(0, "in", sizeof pl), st(0, "out", sizeof pl);
  C3(SYS_write, pfd[1], "x", 1);
  buf(1, "in", 1);
  C3(SYS_poll, &pl, 1, 0);
  st(0, "in", sizeof pl), st(0, "out", sizeof pl);
  struct iovec wv[3] = { { "hello ", 6 }, { "world, this is a longer piece of text than 32\n", 47 }, { "x", 1 } };
  n = C3(SYS_writev, pfd[1], wv, 3);
  iov_(1, "in", 1, -1);
  char ra[4], rb[100];
  struct iovec rv[2] = { { ra, 4 }, { rb, 100 } };
  n = C3(SYS_readv, pfd[0], rv, 2);
  iov_(1, "in", 0, 0);
  if (n >= 0) iov_(1, "out", 1, n);
  C3(SYS_readv, 9999, rv, 2);
  iov_(1, "in", 0, 0);
  n = C6(SYS_pwritev, 9999, wv, 1, 0, 0, 0);
  iov_(1, "in", 1, -1);
  long ep = C1(SYS_epoll_create1, EPOLL_CLOEXEC);
  struct epoll_event ee = { EPOLLIN | EPOLLET, { .u64 = 0x1234567890 } };
  C4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pfd[0], &ee);
  st(3, "in", sizeof ee);
  C3(SYS_write, pfd[1], "z", 1);
  buf(1, "in", 1);
  struct epoll_event evs[4];
  n = C4(SYS_epoll_wait, ep, evs, 4, 0);
  if (n > 0) data(1, "out", evs, (size_t)n * sizeof evs[0], 0);
  n = C4(SYS_epoll_wait, ep, evs, 4, 0);
  C1(SYS_close, ep);
  C1(SYS_close, pfd[0]);
  C1(SYS_close, pfd[1]);
  static char altstack[16384];
  stack_t ss = { altstack, 0, sizeof altstack }, oss;
  C2(SYS_sigaltstack, &ss, &oss);
  st(0, "in", sizeof ss), st(1, "out", sizeof oss);
  C2(SYS_sigaltstack, 0, &oss);
  st(1, "out", sizeof oss);
  ss.ss_flags = SS_DISABLE;
  C2(SYS_sigaltstack, &ss, 0);
  st(0, "in", sizeof ss);
  C2(SYS_prctl, PR_SET_NAME, "worker-1");
  str(1);
  char pname[16];
  C2(SYS_prctl, PR_GET_NAME, pname);
  st(1, "out", 16);
  C5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  C1(SYS_prctl, PR_GET_DUMPABLE);
  C2(SYS_prctl, PR_SET_PDEATHSIG, SIGTERM);
  C2(SYS_prctl, PR_SET_PDEATHSIG, 0);
  static char si[112];
  C1(SYS_sysinfo, si);
  st(0, "out", sizeof si);
  C3(SYS_close_range, 100, ~0U, 0);
  C3(SYS_close_range, 100, 200, CLOSE_RANGE_CLOEXEC);
  C3(SYS_ioctl, 0, _IOR(0x12, 0x34, long), 0);
  C3(SYS_ioctl, 0, _IO(0xfe, 0xdc), 0x1234);
  C3(SYS_ioctl, 9999, FIOCLEX, 0);

  /* terminals */
  int ptm = (int)C4(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY, 0);
  path(1);
  int unlock = 0, ptn = -1;
  C3(SYS_ioctl, ptm, TIOCSPTLCK, &unlock);
  st(2, "in", 4);
  C3(SYS_ioctl, ptm, TIOCGPTN, &ptn);
  st(2, "out", 4);
  char pts[64];
  snprintf(pts, sizeof pts, "/dev/pts/%d", ptn);
  int tty = (int)C4(SYS_openat, AT_FDCWD, pts, O_RDWR | O_NOCTTY, 0);
  path(1);
  struct termios tio;
  C3(SYS_ioctl, tty, TCGETS, &tio);
  st(2, "out", sizeof tio);
  struct winsize ws = { 24, 80, 0, 0 };
  C3(SYS_ioctl, tty, TIOCSWINSZ, &ws);
  st(2, "in", sizeof ws);
  C3(SYS_ioctl, tty, TIOCGWINSZ, &ws);
  st(2, "out", sizeof ws);
  C3(SYS_ioctl, 9999, TCGETS, &tio);
  int devnull = (int)C4(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY, 0);
  path(1);
  C3(SYS_ioctl, devnull, TCGETS, &tio);
  C3(SYS_ioctl, devnull, TIOCGWINSZ, &ws);
  C1(SYS_close, devnull);
  C1(SYS_close, tty);
  C1(SYS_close, ptm);

  /* signals */
  struct ksigaction { void *handler; unsigned long flags; void *restorer; uint64_t mask; } sa = { SIG_IGN, SA_RESTORER | SA_RESTART, (void *)0x401000, 1ul << (SIGINT - 1) | 1ul << (SIGTERM - 1) }, osa;
  C4(SYS_rt_sigaction, SIGUSR1, &sa, &osa, 8);
  st(1, "in", sizeof sa), st(2, "out", sizeof osa);
  C4(SYS_rt_sigaction, SIGUSR1, 0, &osa, 8);
  st(2, "out", sizeof osa);
  sa.handler = SIG_DFL, sa.flags = SA_RESTORER | SA_SIGINFO | SA_ONSTACK | SA_NODEFER, sa.mask = 0;
  C4(SYS_rt_sigaction, SIGUSR1, &sa, 0, 8);
  st(1, "in", sizeof sa);
  C4(SYS_rt_sigaction, 99, &sa, 0, 8);
  st(1, "in", sizeof sa);
  uint64_t set = 1ul << (SIGCHLD - 1), oset;
  C4(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 8);
  st(1, "in", 8), st(2, "out", 8);
  set = ~0ul & ~(1ul << (SIGKILL - 1)) & ~(1ul << (SIGSTOP - 1));
  C4(SYS_rt_sigprocmask, SIG_SETMASK, &set, &oset, 8);
  st(1, "in", 8), st(2, "out", 8);
  C4(SYS_rt_sigprocmask, SIG_SETMASK, &oset, 0, 8);
  st(1, "in", 8);
  set = 1ul << 31 | 1ul << 32 | 1ul << (SIGRTMIN - 1) | 1ul << (SIGRTMIN) | 1ul << 63;
  C4(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, 0, 8);
  st(1, "in", 8);
  C4(SYS_rt_sigaction, 32, 0, &osa, 8);
  st(2, "out", sizeof osa);
  C4(SYS_rt_sigaction, 33, 0, &osa, 8);
  st(2, "out", sizeof osa);
  long pid = C0(SYS_getpid);
  C2(SYS_kill, pid, 0);
  C3(SYS_tgkill, pid, mytid, 0);
  C2(SYS_kill, -1234567, SIGTERM);

  /* identity and time */
  C0(SYS_getuid);
  C0(SYS_geteuid);
  C0(SYS_getgid);
  C0(SYS_getegid);
  C0(SYS_gettid);
  C0(SYS_getppid);
  struct utsname un;
  C1(SYS_uname, &un);
  st(0, "out", sizeof un);
  struct timespec req = { 0, 1000 }, rem;
  C2(SYS_nanosleep, &req, 0);
  st(0, "in", sizeof req);
  C4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
  st(2, "in", sizeof req);
  C2(SYS_clock_gettime, CLOCK_MONOTONIC, &rem);
  st(1, "out", sizeof rem);
  C2(SYS_clock_getres, CLOCK_REALTIME, &rem);
  st(1, "out", sizeof rem);
  unsigned long mask[16];
  n = C3(SYS_sched_getaffinity, 0, sizeof mask, mask);
  if (n > 0) data(2, "out", mask, (size_t)n, 0);

  /* sockets */
  long s = C3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un sun = { AF_UNIX, "/nonexistent/socket" };
  C3(SYS_connect, s, &sun, sizeof sun);
  st(1, "in", sizeof sun);
  C1(SYS_close, s);
  s = C3(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_IP);
  struct sockaddr_in sin = { AF_INET, htons(1), { htonl(INADDR_LOOPBACK) }, { 0 } };
  C3(SYS_connect, s, &sin, sizeof sin);
  st(1, "in", sizeof sin);
  C1(SYS_close, s);
  s = C3(SYS_socket, AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
  struct sockaddr_in6 sin6 = { AF_INET6, htons(9), 0, IN6ADDR_LOOPBACK_INIT, 0 };
  C3(SYS_connect, s, &sin6, sizeof sin6);
  st(1, "in", sizeof sin6);
  C1(SYS_close, s);
  int sv[2];
  C4(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv);
  st(3, "out", sizeof sv);
  C6(SYS_sendto, sv[0], "ping", 4, MSG_DONTWAIT, 0, 0);
  buf(1, "in", 4);
  struct sockaddr_un from;
  socklen_t fromlen = sizeof from;
  n = C6(SYS_recvfrom, sv[1], rd, 64, MSG_DONTWAIT, 0, 0);
  buf(1, "out", n);
  n = C6(SYS_recvfrom, sv[1], rd, 64, MSG_DONTWAIT, &from, &fromlen);
  st(5, "in", 4);
  C6(SYS_sendto, sv[0], "pong", 4, 0, 0, 0);
  buf(1, "in", 4);
  socklen_t inlen = fromlen = sizeof from;
  n = C6(SYS_recvfrom, sv[1], rd, 64, 0, &from, &fromlen);
  buf(1, "out", n);
  data(5, "in", &inlen, 4, 0);
  st(5, "out", 4);
  st(4, "out", fromlen);
  fromlen = inlen;
  C3(SYS_getsockname, sv[0], &from, &fromlen);
  data(2, "in", &inlen, 4, 0), st(2, "out", 4), st(1, "out", fromlen);
  C1(SYS_close, sv[0]);
  C1(SYS_close, sv[1]);

  /* processes */
  C4(SYS_wait4, -1, &n, WNOHANG, 0);
  flush();
  long child = C5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child == 0) {
    C0(SYS_gettid);
    C3(SYS_write, 1, "", 0);
    buf(1, "in", 0);
    flush();
    C1(SYS_exit_group, 3);
  }
  int status;
  C4(SYS_wait4, child, &status, 0, 0);
  st(1, "out", sizeof status);
  struct clone_args ca = { .exit_signal = SIGCHLD };
  flush();
  child = C2(SYS_clone3, &ca, sizeof ca);
  if (child == 0) {
    long me = C0(SYS_gettid);
    flush();
    sc(SYS_kill, me, SIGKILL, 0, 0, 0, 0);
  }
  st(0, "in", sizeof ca);
  C4(SYS_wait4, child, &status, __WALL, 0);
  st(1, "out", sizeof status);
  char *av[] = { "prog", "an argument longer than thirty-two bytes", "x", NULL };
  char *ev[] = { "A=1", "B=2", NULL };
  C3(SYS_execve, "/nonexistent/prog", av, ev);
  path(0), argv_(1), envc(2);
  C1(SYS_close, -9998);
  flush();
  char *tv[] = { "/bin/true", NULL };
  C3(SYS_execve, "/bin/true", tv, ev);
  return 1;
}
