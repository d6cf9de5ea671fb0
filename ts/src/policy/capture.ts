// What the core captures of each call's memory, for the formatter: the agreement between the
// C side that fills TraceEvent.data and the TypeScript side that prints it (docs/policies.md,
// "Expressions and output format"). A capture is taken only when the pointer argument is not
// NULL; 'out' captures only when the call succeeded (its result is not in -4095..-1).
//
// Encodings of TraceEvent.data[i].bytes by kind:
//   path     the NUL-terminated string without its NUL, up to 4096 bytes (never cut at -s:
//            strace shows paths whole); truncated: no NUL within 4096 bytes. 'out' (getcwd):
//            the string the call wrote
//   string   a NUL-terminated string without its NUL, up to strsize bytes; truncated: longer
//   buffer   len bytes (len: an argument, or the result for 'ret'), up to strsize bytes;
//            truncated: longer than strsize
//   struct   size bytes as they are in memory (size: fixed, or from an argument when sizeArg)
//   argv     a NULL-terminated array of strings: each element's bytes (up to strsize + 1) and a
//            NUL, at most strsize elements; truncated: more elements follow
//   count    a NULL-terminated array of pointers: its length as a little-endian u32
//   dirents  the result's bytes (linux_dirent(64) records), up to 65536 bytes
//   bytes    the result's bytes, up to max
//   iov      an array of struct iovec (count from countArg, at most strsize elements; truncated:
//            more): for each element its base (u64 LE), its length (u64 LE), then n (u32 LE)
//            and n bytes of its contents, up to strsize: 'in' for the calls that read them
//            (writev: contents of iov_len bytes) and for readv before the call (n = 0: no
//            contents yet); 'out' after readv, the result's bytes spread over the elements in order
//   deref    size bytes at the address stored (as a u64) at offset in the memory at the argument,
//            when that address is not NULL (clone3's parent_tid, written by the call)
// `if` limits a capture to calls whose argument arg, masked with mask, is one of values.
import { SYSCALL_NAMES } from '../syscalls.js';

export type CaptureKind = 'path' | 'string' | 'buffer' | 'struct' | 'argv' | 'count' | 'dirents' | 'bytes' | 'deref' | 'iov';

export interface Capture {
  arg: number;
  dir: 'in' | 'out';
  kind: CaptureKind;
  /** buffer: the argument holding the length, or 'ret' */
  len?: number | 'ret';
  /** struct: bytes */
  size?: number;
  /** struct: the argument holding the size (capped at size) */
  sizeArg?: number;
  /** bytes: the most captured */
  max?: number;
  /** deref: where the address is, in the memory at the argument */
  offset?: number;
  /** struct: capture min(size, result * perRet) bytes (arrays the call fills, e.g. epoll_wait) */
  perRet?: number;
  /** iov: the argument holding the number of elements */
  countArg?: number;
  if?: { arg: number; values: readonly number[]; mask?: number };
}

const path = (arg: number): Capture => ({ arg, dir: 'in', kind: 'path' });
const str = (arg: number): Capture => ({ arg, dir: 'in', kind: 'string' });
const bufIn = (arg: number, len: number): Capture => ({ arg, dir: 'in', kind: 'buffer', len });
const bufOut = (arg: number): Capture => ({ arg, dir: 'out', kind: 'buffer', len: 'ret' });
const st = (arg: number, dir: 'in' | 'out', size: number, cond?: Capture['if']): Capture =>
  (cond ? { arg, dir, kind: 'struct', size, if: cond } : { arg, dir, kind: 'struct', size });

export const STAT_SIZE = 144;
export const STATX_SIZE = 256;
export const STATFS_SIZE = 120;
export const RUSAGE_SIZE = 144;
const TIMESPEC = 16;
const SOCKADDR_MAX = 128;
/** futex commands whose 4th argument is a timeout (WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2) */
const FUTEX_TIMEOUT_CMDS = [0, 6, 9, 11, 13];

const BY_NAME: Readonly<Record<string, readonly Capture[]>> = {
  read: [bufOut(1)],
  write: [bufIn(1, 2)],
  open: [path(0)],
  creat: [path(0)],
  stat: [path(0), st(1, 'out', STAT_SIZE)],
  fstat: [st(1, 'out', STAT_SIZE)],
  lstat: [path(0), st(1, 'out', STAT_SIZE)],
  newfstatat: [path(1), st(2, 'out', STAT_SIZE)],
  statx: [path(1), st(4, 'out', STATX_SIZE)],
  statfs: [path(0), st(1, 'out', STATFS_SIZE)],
  fstatfs: [st(1, 'out', STATFS_SIZE)],
  poll: [{ arg: 0, dir: 'in', kind: 'struct', size: 8 * 64, sizeArg: 1 }, { arg: 0, dir: 'out', kind: 'struct', size: 8 * 64, sizeArg: 1 }],
  rt_sigaction: [st(1, 'in', 32), st(2, 'out', 32)],
  rt_sigprocmask: [st(1, 'in', 8), st(2, 'out', 8)],
  ioctl: [
    st(2, 'out', 36, { arg: 1, values: [0x5401] }), // TCGETS
    st(2, 'in', 36, { arg: 1, values: [0x5402, 0x5403, 0x5404] }), // TCSETS*
    st(2, 'out', 8, { arg: 1, values: [0x5413] }), // TIOCGWINSZ
    st(2, 'in', 8, { arg: 1, values: [0x5414] }), // TIOCSWINSZ
    st(2, 'out', 4, { arg: 1, values: [0x540f, 0x5429, 0x5424, 0x5419, 0x80045430, 0x541b, 0x5411, 0x80045440, 0x80045432] }),
    st(2, 'in', 4, { arg: 1, values: [0x5410, 0x5423, 0x5421, 0x5452, 0x5420, 0x541a, 0x40045431] }),
  ],
  pread64: [bufOut(1)],
  readv: [{ arg: 1, dir: 'in', kind: 'iov', countArg: 2 }, { arg: 1, dir: 'out', kind: 'iov', countArg: 2 }],
  writev: [{ arg: 1, dir: 'in', kind: 'iov', countArg: 2 }],
  preadv: [{ arg: 1, dir: 'in', kind: 'iov', countArg: 2 }, { arg: 1, dir: 'out', kind: 'iov', countArg: 2 }],
  pwritev: [{ arg: 1, dir: 'in', kind: 'iov', countArg: 2 }],
  preadv2: [{ arg: 1, dir: 'in', kind: 'iov', countArg: 2 }, { arg: 1, dir: 'out', kind: 'iov', countArg: 2 }],
  pwritev2: [{ arg: 1, dir: 'in', kind: 'iov', countArg: 2 }],
  epoll_ctl: [st(3, 'in', 12)],
  epoll_wait: [{ arg: 1, dir: 'out', kind: 'struct', size: 12 * 64, perRet: 12 }],
  epoll_pwait: [{ arg: 1, dir: 'out', kind: 'struct', size: 12 * 64, perRet: 12 }, st(4, 'in', 8)],
  sigaltstack: [st(0, 'in', 24), st(1, 'out', 24)],
  prctl: [{ arg: 1, dir: 'in', kind: 'string', if: { arg: 0, values: [15] } }, { arg: 1, dir: 'out', kind: 'struct', size: 16, if: { arg: 0, values: [16] } }],
  pwrite64: [bufIn(1, 2)],
  access: [path(0)],
  pipe: [st(0, 'out', 8)],
  pipe2: [st(0, 'out', 8)],
  nanosleep: [st(0, 'in', TIMESPEC), st(1, 'out', TIMESPEC)],
  connect: [{ arg: 1, dir: 'in', kind: 'struct', size: SOCKADDR_MAX, sizeArg: 2 }],
  bind: [{ arg: 1, dir: 'in', kind: 'struct', size: SOCKADDR_MAX, sizeArg: 2 }],
  accept: [st(2, 'in', 4), st(2, 'out', 4), { arg: 1, dir: 'out', kind: 'struct', size: SOCKADDR_MAX }],
  accept4: [st(2, 'in', 4), st(2, 'out', 4), { arg: 1, dir: 'out', kind: 'struct', size: SOCKADDR_MAX }],
  getsockname: [st(2, 'in', 4), st(2, 'out', 4), { arg: 1, dir: 'out', kind: 'struct', size: SOCKADDR_MAX }],
  getpeername: [st(2, 'in', 4), st(2, 'out', 4), { arg: 1, dir: 'out', kind: 'struct', size: SOCKADDR_MAX }],
  sendto: [bufIn(1, 2), { arg: 4, dir: 'in', kind: 'struct', size: SOCKADDR_MAX, sizeArg: 5 }],
  recvfrom: [bufOut(1), st(5, 'in', 4), st(5, 'out', 4), { arg: 4, dir: 'out', kind: 'struct', size: SOCKADDR_MAX }],
  socketpair: [st(3, 'out', 8)],
  setsockopt: [bufIn(3, 4)],
  getsockopt: [st(4, 'in', 4), st(4, 'out', 4), { arg: 3, dir: 'out', kind: 'struct', size: 64 }],
  clone: [st(2, 'out', 4, { arg: 0, values: [0x100000], mask: 0x100000 })],
  clone3: [{ arg: 0, dir: 'in', kind: 'struct', size: 88, sizeArg: 1 }, { arg: 0, dir: 'out', kind: 'deref', offset: 24, size: 4 }],
  execve: [path(0), { arg: 1, dir: 'in', kind: 'argv' }, { arg: 2, dir: 'in', kind: 'count' }],
  execveat: [path(1), { arg: 2, dir: 'in', kind: 'argv' }, { arg: 3, dir: 'in', kind: 'count' }],
  wait4: [st(1, 'out', 4), st(3, 'out', RUSAGE_SIZE)],
  uname: [st(0, 'out', 390)],
  truncate: [path(0)],
  getdents: [{ arg: 1, dir: 'out', kind: 'dirents' }],
  getdents64: [{ arg: 1, dir: 'out', kind: 'dirents' }],
  getcwd: [{ arg: 0, dir: 'out', kind: 'path' }],
  chdir: [path(0)],
  rename: [path(0), path(1)],
  mkdir: [path(0)],
  rmdir: [path(0)],
  link: [path(0), path(1)],
  unlink: [path(0)],
  symlink: [path(0), path(1)],
  readlink: [path(0), bufOut(1)],
  chmod: [path(0)],
  chown: [path(0)],
  lchown: [path(0)],
  utime: [path(0)],
  utimes: [path(0)],
  mknod: [path(0)],
  chroot: [path(0)],
  acct: [path(0)],
  swapon: [path(0)],
  swapoff: [path(0)],
  umount2: [path(0)],
  mount: [path(0), path(1), str(2)],
  pivot_root: [path(0), path(1)],
  gettimeofday: [st(0, 'out', 16)],
  getrlimit: [st(1, 'out', 16)],
  setrlimit: [st(1, 'in', 16)],
  getrusage: [st(1, 'out', RUSAGE_SIZE)],
  sysinfo: [st(0, 'out', 112)],
  arch_prctl: [st(1, 'out', 8, { arg: 0, values: [0x1003, 0x1004] })],
  setxattr: [path(0), str(1)],
  lsetxattr: [path(0), str(1)],
  getxattr: [path(0), str(1), bufOut(2)],
  lgetxattr: [path(0), str(1), bufOut(2)],
  fgetxattr: [str(1), bufOut(2)],
  listxattr: [path(0)],
  llistxattr: [path(0)],
  removexattr: [path(0), str(1)],
  lremovexattr: [path(0), str(1)],
  time: [st(0, 'out', 8)],
  futex: [st(3, 'in', TIMESPEC, { arg: 1, values: FUTEX_TIMEOUT_CMDS, mask: 0x7f })],
  sched_getaffinity: [{ arg: 2, dir: 'out', kind: 'bytes', max: 128 }],
  clock_gettime: [st(1, 'out', TIMESPEC)],
  clock_getres: [st(1, 'out', TIMESPEC)],
  clock_nanosleep: [st(2, 'in', TIMESPEC), st(3, 'out', TIMESPEC)],
  inotify_add_watch: [path(1)],
  openat: [path(1)],
  openat2: [path(1), { arg: 2, dir: 'in', kind: 'struct', size: 24, sizeArg: 3 }],
  mkdirat: [path(1)],
  mknodat: [path(1)],
  fchownat: [path(1)],
  futimesat: [path(1)],
  unlinkat: [path(1)],
  renameat: [path(1), path(3)],
  renameat2: [path(1), path(3)],
  linkat: [path(1), path(3)],
  symlinkat: [path(0), path(2)],
  readlinkat: [path(1), bufOut(2)],
  fchmodat: [path(1)],
  fchmodat2: [path(1)],
  faccessat: [path(1)],
  faccessat2: [path(1)],
  utimensat: [path(1)],
  name_to_handle_at: [path(1)],
  prlimit64: [st(2, 'in', 16), st(3, 'out', 16)],
  getrandom: [{ arg: 0, dir: 'out', kind: 'buffer', len: 'ret' }],
  memfd_create: [str(0)],
  fanotify_mark: [path(4)],
  open_tree: [path(1)],
  move_mount: [path(1), path(3)],
  fspick: [path(1)],
  mount_setattr: [path(1)],
};

/** The captures for each x86-64 call number (calls without any are absent). */
export const CAPTURES: Readonly<Record<number, readonly Capture[]>> = Object.freeze(Object.fromEntries(
  Object.entries(SYSCALL_NAMES).flatMap(([nr, name]) => (BY_NAME[name] ? [[Number(nr), BY_NAME[name]]] : [])),
));
