// Symbolic names of flags and constants for x86-64, in the order strace prints them (its
// src/xlat/*.in tables: a flags value is printed by walking its table in order and taking
// every entry whose bits are all still set), with strace's printing rules.

/** [value, name], in strace's order. */
export type Xlat = readonly (readonly [number | bigint, string])[];

const big = (v: number | bigint): bigint => BigInt(v);

/** strace's printflags: names joined by |, leftover bits as 0x..; 0 as zero (or '0'). A value
 *  with no known bit: `0x.. /* dflt *\/` (dflt given) or the hex alone. */
export function flags(value: bigint | number, table: Xlat, dflt?: string, zero?: string): string {
  let v = big(value);
  if (v === 0n) return zero ?? '0';
  const out: string[] = [];
  for (const [bit, name] of table) {
    const b = big(bit);
    if (b !== 0n && (v & b) === b) {
      out.push(name);
      v &= ~b;
    }
  }
  if (out.length === 0) return dflt ? `${hex(v)} /* ${dflt} */` : hex(v);
  if (v !== 0n) out.push(hex(v));
  return out.join('|');
}

/** strace's printxval: the name of value, or `0x.. /* dflt *\/`. */
export function xval(value: bigint | number, table: Xlat, dflt: string, decimal = false): string {
  const v = big(value);
  for (const [k, name] of table) if (big(k) === v) return name;
  return `${decimal ? v.toString() : hex(v)} /* ${dflt} */`;
}

/** The name of value in table, or undefined. */
export function lookup(value: bigint | number, table: Xlat): string | undefined {
  const v = big(value);
  for (const [k, name] of table) if (big(k) === v) return name;
  return undefined;
}

/** %#lx: 0 as "0", else 0x followed by lowercase hex. */
export function hex(v: bigint | number): string {
  const b = big(v);
  return b === 0n ? '0' : `0x${(b < 0n ? BigInt.asUintN(64, b) : b).toString(16)}`;
}

/** %#o: 0 as "0", else 0 followed by octal digits; %#03o pads to 3 characters. */
export function octal(v: number, width = 0): string {
  const s = v === 0 ? '0' : `0${v.toString(8)}`;
  return s.padStart(width, '0');
}

export const OPEN_ACCESS: Xlat = [[0, 'O_RDONLY'], [1, 'O_WRONLY'], [2, 'O_RDWR'], [3, 'O_ACCMODE']];
export const OPEN_FLAGS: Xlat = [
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o4010000, 'O_SYNC'], [0o4000000, '__O_SYNC'], [0o10000, 'O_DSYNC'], [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'], [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'], [0o20200000, 'O_TMPFILE'], [0o20000000, '__O_TMPFILE'], [0o200000, 'O_DIRECTORY'],
  [0o20000, 'FASYNC'],
];
export const O_CREAT = 0o100;
export const O_TMPFILE = 0o20200000;

/** open(2)'s flags: the access mode, then the other flags (strace's tprint_open_modes). */
export function openFlags(v: bigint | number): string {
  const f = Number(BigInt.asUintN(32, big(v)));
  const acc = lookup(f & 3, OPEN_ACCESS) as string;
  const rest = f & ~3;
  return rest === 0 ? acc : `${acc}|${flags(rest, OPEN_FLAGS)}`;
}

export const AT_FLAGS: Xlat = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR'], [0x400, 'AT_SYMLINK_FOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'],
  [0x1000, 'AT_EMPTY_PATH'], [0x8000, 'AT_RECURSIVE'],
];
export const FACCESSAT_FLAGS: Xlat = [[0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_EACCESS'], [0x1000, 'AT_EMPTY_PATH']];
export const STATX_SYNC: Xlat = [[0, 'AT_STATX_SYNC_AS_STAT'], [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC']];
export const AT_FDCWD = -100;

export const ACCESS_MODES: Xlat = [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']];
/** access(2)'s mode: F_OK, or R_OK|W_OK|X_OK */
export const accessMode = (v: bigint | number): string => flags(v, ACCESS_MODES, '?_OK', 'F_OK');

export const PROT: Xlat = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC'], [8, 'PROT_SEM'],
  [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP']];
export const MAP_TYPES: Xlat = [[1, 'MAP_SHARED'], [2, 'MAP_PRIVATE'], [3, 'MAP_SHARED_VALIDATE'], [8, 'MAP_DROPPABLE']];
export const MAP_FLAGS: Xlat = [
  [0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'], [0x80, 'MAP_ABOVE4G'], [0x4000, 'MAP_NORESERVE'],
  [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'],
  [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'],
  [0x80000, 'MAP_SYNC'], [0x4000000, 'MAP_UNINITIALIZED'], [0x100000, 'MAP_FIXED_NOREPLACE'],
];

/** mmap's flags: the mapping type, then the flags. */
export function mmapFlags(v: bigint | number): string {
  const f = BigInt.asUintN(64, big(v));
  const type = f & 0xfn;
  const rest = f & ~0xfn;
  const t = xval(type, MAP_TYPES, 'MAP_???');
  return rest === 0n ? t : `${t}|${flags(rest, MAP_FLAGS)}`;
}

export const MREMAP_FLAGS: Xlat = [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']];
export const MADVISE: Xlat = [
  [0, 'MADV_NORMAL'], [1, 'MADV_RANDOM'], [2, 'MADV_SEQUENTIAL'], [3, 'MADV_WILLNEED'], [4, 'MADV_DONTNEED'],
  [8, 'MADV_FREE'], [9, 'MADV_REMOVE'], [10, 'MADV_DONTFORK'], [11, 'MADV_DOFORK'], [12, 'MADV_MERGEABLE'],
  [13, 'MADV_UNMERGEABLE'], [14, 'MADV_HUGEPAGE'], [15, 'MADV_NOHUGEPAGE'], [16, 'MADV_DONTDUMP'], [17, 'MADV_DODUMP'],
  [18, 'MADV_WIPEONFORK'], [19, 'MADV_KEEPONFORK'], [20, 'MADV_COLD'], [21, 'MADV_PAGEOUT'], [22, 'MADV_POPULATE_READ'],
  [23, 'MADV_POPULATE_WRITE'], [24, 'MADV_DONTNEED_LOCKED'], [25, 'MADV_COLLAPSE'], [100, 'MADV_HWPOISON'],
  [101, 'MADV_SOFT_OFFLINE'],
];

export const SEEK: Xlat = [[0, 'SEEK_SET'], [1, 'SEEK_CUR'], [2, 'SEEK_END'], [3, 'SEEK_DATA'], [4, 'SEEK_HOLE']];

export const FCNTL_CMDS: Xlat = [
  [0, 'F_DUPFD'], [1, 'F_GETFD'], [2, 'F_SETFD'], [3, 'F_GETFL'], [4, 'F_SETFL'], [5, 'F_GETLK'], [6, 'F_SETLK'],
  [7, 'F_SETLKW'], [8, 'F_SETOWN'], [9, 'F_GETOWN'], [10, 'F_SETSIG'], [11, 'F_GETSIG'], [15, 'F_SETOWN_EX'],
  [16, 'F_GETOWN_EX'], [17, 'F_GETOWNER_UIDS'], [36, 'F_OFD_GETLK'], [37, 'F_OFD_SETLK'], [38, 'F_OFD_SETLKW'],
  [1024, 'F_SETLEASE'], [1025, 'F_GETLEASE'], [1026, 'F_NOTIFY'], [1030, 'F_DUPFD_CLOEXEC'], [1031, 'F_SETPIPE_SZ'],
  [1032, 'F_GETPIPE_SZ'], [1033, 'F_ADD_SEALS'], [1034, 'F_GET_SEALS'], [1035, 'F_GET_RW_HINT'],
  [1036, 'F_SET_RW_HINT'], [1037, 'F_GET_FILE_RW_HINT'], [1038, 'F_SET_FILE_RW_HINT'],
];
export const FD_FLAGS: Xlat = [[1, 'FD_CLOEXEC']];
export const SEALS: Xlat = [[1, 'F_SEAL_SEAL'], [2, 'F_SEAL_SHRINK'], [4, 'F_SEAL_GROW'], [8, 'F_SEAL_WRITE'], [16, 'F_SEAL_FUTURE_WRITE']];
export const LOCK_OPS: Xlat = [[1, 'LOCK_SH'], [2, 'LOCK_EX'], [8, 'LOCK_UN']];

export const RLIMITS: Xlat = [
  [0, 'RLIMIT_CPU'], [1, 'RLIMIT_FSIZE'], [2, 'RLIMIT_DATA'], [3, 'RLIMIT_STACK'], [4, 'RLIMIT_CORE'], [5, 'RLIMIT_RSS'],
  [6, 'RLIMIT_NPROC'], [7, 'RLIMIT_NOFILE'], [8, 'RLIMIT_MEMLOCK'], [9, 'RLIMIT_AS'], [10, 'RLIMIT_LOCKS'],
  [11, 'RLIMIT_SIGPENDING'], [12, 'RLIMIT_MSGQUEUE'], [13, 'RLIMIT_NICE'], [14, 'RLIMIT_RTPRIO'], [15, 'RLIMIT_RTTIME'],
];

export const FUTEX_CMDS: Xlat = [
  [0, 'FUTEX_WAIT'], [1, 'FUTEX_WAKE'], [2, 'FUTEX_FD'], [3, 'FUTEX_REQUEUE'], [4, 'FUTEX_CMP_REQUEUE'],
  [5, 'FUTEX_WAKE_OP'], [6, 'FUTEX_LOCK_PI'], [7, 'FUTEX_UNLOCK_PI'], [8, 'FUTEX_TRYLOCK_PI'], [9, 'FUTEX_WAIT_BITSET'],
  [10, 'FUTEX_WAKE_BITSET'], [11, 'FUTEX_WAIT_REQUEUE_PI'], [12, 'FUTEX_CMP_REQUEUE_PI'], [13, 'FUTEX_LOCK_PI2'],
];

export const SIGACT_FLAGS: Xlat = [
  [0x04000000, 'SA_RESTORER'], [0x08000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'], [0x20000000, 'SA_INTERRUPT'],
  [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND'], [4, 'SA_SIGINFO'], [1, 'SA_NOCLDSTOP'], [2, 'SA_NOCLDWAIT'],
];
export const SIGPROCMASK_HOW: Xlat = [[0, 'SIG_BLOCK'], [1, 'SIG_UNBLOCK'], [2, 'SIG_SETMASK']];

export const CLONE_FLAGS: Xlat = [
  [0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'], [0x1000, 'CLONE_PIDFD'],
  [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'], [0x10000, 'CLONE_THREAD'],
  [0x20000, 'CLONE_NEWNS'], [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'], [0x100000, 'CLONE_PARENT_SETTID'],
  [0x200000, 'CLONE_CHILD_CLEARTID'], [0x800000, 'CLONE_UNTRACED'], [0x1000000, 'CLONE_CHILD_SETTID'],
  [0x2000000, 'CLONE_NEWCGROUP'], [0x4000000, 'CLONE_NEWUTS'], [0x8000000, 'CLONE_NEWIPC'], [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'], [0x80000000, 'CLONE_IO'],
  [0x100000000n, 'CLONE_CLEAR_SIGHAND'], [0x200000000n, 'CLONE_INTO_CGROUP'], [0x400000000n, 'CLONE_NEWTIME'],
];

export const WAIT_OPTIONS: Xlat = [
  [1, 'WNOHANG'], [4, 'WEXITED'], [2, 'WSTOPPED'], [8, 'WCONTINUED'], [0x01000000, 'WNOWAIT'], [0x80000000, '__WCLONE'],
  [0x40000000, '__WALL'], [0x20000000, '__WNOTHREAD'],
];
/** wait4 has WUNTRACED (2) where waitid has WSTOPPED */
export const WAIT4_OPTIONS: Xlat = WAIT_OPTIONS.map(([v, n]) => [v, n === 'WSTOPPED' ? 'WUNTRACED' : n] as const);

export const ADDRESS_FAMILIES: Xlat = [
  'AF_UNSPEC', 'AF_UNIX', 'AF_INET', 'AF_AX25', 'AF_IPX', 'AF_APPLETALK', 'AF_NETROM', 'AF_BRIDGE', 'AF_ATMPVC', 'AF_X25',
  'AF_INET6', 'AF_ROSE', 'AF_DECnet', 'AF_NETBEUI', 'AF_SECURITY', 'AF_KEY', 'AF_NETLINK', 'AF_PACKET', 'AF_ASH',
  'AF_ECONET', 'AF_ATMSVC', 'AF_RDS', 'AF_SNA', 'AF_IRDA', 'AF_PPPOX', 'AF_WANPIPE', 'AF_LLC', 'AF_IB', 'AF_MPLS', 'AF_CAN',
  'AF_TIPC', 'AF_BLUETOOTH', 'AF_IUCV', 'AF_RXRPC', 'AF_ISDN', 'AF_PHONET', 'AF_IEEE802154', 'AF_CAIF', 'AF_ALG',
  'AF_NFC', 'AF_VSOCK', 'AF_KCM', 'AF_QIPCRTR', 'AF_SMC', 'AF_XDP', 'AF_MCTP',
].map((n, i) => [i, n] as const);
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

export const SOCK_TYPES: Xlat = [[1, 'SOCK_STREAM'], [2, 'SOCK_DGRAM'], [3, 'SOCK_RAW'], [4, 'SOCK_RDM'],
  [5, 'SOCK_SEQPACKET'], [6, 'SOCK_DCCP'], [10, 'SOCK_PACKET']];
export const SOCK_TYPE_FLAGS: Xlat = [[0o2000000, 'SOCK_CLOEXEC'], [0o4000, 'SOCK_NONBLOCK']];

/** socket(2)'s type: the type, then SOCK_CLOEXEC|SOCK_NONBLOCK. */
export function sockType(v: bigint | number): string {
  const t = Number(BigInt.asUintN(32, big(v)));
  const base = xval(t & 0xf, SOCK_TYPES, 'SOCK_???');
  const rest = t & ~0xf;
  return rest === 0 ? base : `${base}|${flags(rest, SOCK_TYPE_FLAGS)}`;
}

export const INET_PROTOCOLS: Xlat = [
  [0, 'IPPROTO_IP'], [1, 'IPPROTO_ICMP'], [2, 'IPPROTO_IGMP'], [4, 'IPPROTO_IPIP'], [6, 'IPPROTO_TCP'], [8, 'IPPROTO_EGP'],
  [12, 'IPPROTO_PUP'], [17, 'IPPROTO_UDP'], [22, 'IPPROTO_IDP'], [29, 'IPPROTO_TP'], [33, 'IPPROTO_DCCP'],
  [41, 'IPPROTO_IPV6'], [46, 'IPPROTO_RSVP'], [47, 'IPPROTO_GRE'], [50, 'IPPROTO_ESP'], [51, 'IPPROTO_AH'],
  [58, 'IPPROTO_ICMPV6'], [92, 'IPPROTO_MTP'], [94, 'IPPROTO_BEETPH'], [98, 'IPPROTO_ENCAP'], [103, 'IPPROTO_PIM'],
  [108, 'IPPROTO_COMP'], [115, 'IPPROTO_L2TP'], [132, 'IPPROTO_SCTP'], [136, 'IPPROTO_UDPLITE'], [137, 'IPPROTO_MPLS'],
  [143, 'IPPROTO_ETHERNET'], [255, 'IPPROTO_RAW'], [262, 'IPPROTO_MPTCP'],
];
export const NETLINK_PROTOCOLS: Xlat = [
  [0, 'NETLINK_ROUTE'], [1, 'NETLINK_UNUSED'], [2, 'NETLINK_USERSOCK'], [3, 'NETLINK_FIREWALL'], [4, 'NETLINK_SOCK_DIAG'],
  [5, 'NETLINK_NFLOG'], [6, 'NETLINK_XFRM'], [7, 'NETLINK_SELINUX'], [8, 'NETLINK_ISCSI'], [9, 'NETLINK_AUDIT'],
  [10, 'NETLINK_FIB_LOOKUP'], [11, 'NETLINK_CONNECTOR'], [12, 'NETLINK_NETFILTER'], [13, 'NETLINK_IP6_FW'],
  [14, 'NETLINK_DNRTMSG'], [15, 'NETLINK_KOBJECT_UEVENT'], [16, 'NETLINK_GENERIC'], [18, 'NETLINK_SCSITRANSPORT'],
  [19, 'NETLINK_ECRYPTFS'], [20, 'NETLINK_RDMA'], [21, 'NETLINK_CRYPTO'], [22, 'NETLINK_SMC'],
];
export const MSG_FLAGS: Xlat = [
  [0x1, 'MSG_OOB'], [0x2, 'MSG_PEEK'], [0x4, 'MSG_DONTROUTE'], [0x8, 'MSG_CTRUNC'], [0x10, 'MSG_PROBE'],
  [0x20, 'MSG_TRUNC'], [0x40, 'MSG_DONTWAIT'], [0x80, 'MSG_EOR'], [0x100, 'MSG_WAITALL'], [0x200, 'MSG_FIN'],
  [0x400, 'MSG_SYN'], [0x800, 'MSG_CONFIRM'], [0x1000, 'MSG_RST'], [0x2000, 'MSG_ERRQUEUE'], [0x4000, 'MSG_NOSIGNAL'],
  [0x8000, 'MSG_MORE'], [0x10000, 'MSG_WAITFORONE'], [0x20000, 'MSG_SENDPAGE_NOTLAST'], [0x40000, 'MSG_BATCH'],
  [0x80000, 'MSG_NO_SHARED_FRAGS'], [0x2000000, 'MSG_SOCK_DEVMEM'], [0x4000000, 'MSG_ZEROCOPY'],
  [0x20000000, 'MSG_FASTOPEN'], [0x40000000, 'MSG_CMSG_CLOEXEC'], [0x80000000, 'MSG_CMSG_COMPAT'],
];
export const SHUTDOWN_MODES: Xlat = [[0, 'SHUT_RD'], [1, 'SHUT_WR'], [2, 'SHUT_RDWR']];
export const SOCKOPT_LEVELS: Xlat = [[0, 'SOL_IP'], [1, 'SOL_SOCKET'], [6, 'SOL_TCP'], [17, 'SOL_UDP'], [41, 'SOL_IPV6'],
  [58, 'SOL_ICMPV6'], [132, 'SOL_SCTP'], [255, 'SOL_RAW'], [263, 'SOL_PACKET'], [270, 'SOL_NETLINK'], [274, 'SOL_ALG']];
export const SOL_SOCKET_OPTS: Xlat = [
  [1, 'SO_DEBUG'], [2, 'SO_REUSEADDR'], [3, 'SO_TYPE'], [4, 'SO_ERROR'], [5, 'SO_DONTROUTE'], [6, 'SO_BROADCAST'],
  [7, 'SO_SNDBUF'], [8, 'SO_RCVBUF'], [9, 'SO_KEEPALIVE'], [10, 'SO_OOBINLINE'], [11, 'SO_NO_CHECK'],
  [12, 'SO_PRIORITY'], [13, 'SO_LINGER'], [14, 'SO_BSDCOMPAT'], [15, 'SO_REUSEPORT'], [16, 'SO_PASSCRED'],
  [17, 'SO_PEERCRED'], [18, 'SO_RCVLOWAT'], [19, 'SO_SNDLOWAT'], [20, 'SO_RCVTIMEO_OLD'], [21, 'SO_SNDTIMEO_OLD'],
  [25, 'SO_BINDTODEVICE'], [26, 'SO_ATTACH_FILTER'], [29, 'SO_TIMESTAMP_OLD'], [30, 'SO_ACCEPTCONN'],
  [31, 'SO_PEERSEC'], [32, 'SO_SNDBUFFORCE'], [33, 'SO_RCVBUFFORCE'], [34, 'SO_PASSSEC'], [36, 'SO_MARK'],
  [38, 'SO_PROTOCOL'], [39, 'SO_DOMAIN'], [40, 'SO_RXQ_OVFL'], [46, 'SO_BUSY_POLL'], [47, 'SO_MAX_PACING_RATE'],
  [49, 'SO_INCOMING_CPU'], [59, 'SO_PEERGROUPS'], [61, 'SO_TXTIME'], [66, 'SO_RCVTIMEO_NEW'], [67, 'SO_SNDTIMEO_NEW'],
];

export const POLL_EVENTS: Xlat = [
  [0x1, 'POLLIN'], [0x2, 'POLLPRI'], [0x4, 'POLLOUT'], [0x8, 'POLLERR'], [0x10, 'POLLHUP'], [0x20, 'POLLNVAL'],
  [0x40, 'POLLRDNORM'], [0x80, 'POLLRDBAND'], [0x100, 'POLLWRNORM'], [0x200, 'POLLWRBAND'], [0x400, 'POLLMSG'],
  [0x1000, 'POLLREMOVE'], [0x2000, 'POLLRDHUP'], [0x8000, 'POLL_BUSY_LOOP'],
];

export const GRND_FLAGS: Xlat = [[1, 'GRND_NONBLOCK'], [2, 'GRND_RANDOM'], [4, 'GRND_INSECURE']];
export const MFD_FLAGS: Xlat = [[1, 'MFD_CLOEXEC'], [2, 'MFD_ALLOW_SEALING'], [4, 'MFD_HUGETLB'], [8, 'MFD_NOEXEC_SEAL'], [16, 'MFD_EXEC']];
export const PIPE_FLAGS: Xlat = [[0o2000000, 'O_CLOEXEC'], [0o40000, 'O_DIRECT'], [0o4000, 'O_NONBLOCK'], [0o10000000, 'O_NOTIFICATION_PIPE']];
export const EFD_FLAGS: Xlat = [[1, 'EFD_SEMAPHORE'], [0o2000000, 'EFD_CLOEXEC'], [0o4000, 'EFD_NONBLOCK']];
export const EPOLL_CREATE_FLAGS: Xlat = [[0o2000000, 'EPOLL_CLOEXEC']];
export const EPOLL_CTL_OPS: Xlat = [[1, 'EPOLL_CTL_ADD'], [2, 'EPOLL_CTL_DEL'], [3, 'EPOLL_CTL_MOD']];
export const EPOLL_EVENTS: Xlat = [
  [0x1, 'EPOLLIN'], [0x2, 'EPOLLPRI'], [0x4, 'EPOLLOUT'], [0x8, 'EPOLLERR'], [0x10, 'EPOLLHUP'], [0x20, 'EPOLLNVAL'],
  [0x40, 'EPOLLRDNORM'], [0x80, 'EPOLLRDBAND'], [0x100, 'EPOLLWRNORM'], [0x200, 'EPOLLWRBAND'], [0x400, 'EPOLLMSG'],
  [0x2000, 'EPOLLRDHUP'], [0x10000000, 'EPOLLEXCLUSIVE'], [0x20000000, 'EPOLLWAKEUP'], [0x40000000, 'EPOLLONESHOT'],
  [0x80000000, 'EPOLLET'],
];
export const SS_FLAGS: Xlat = [[1, 'SS_ONSTACK'], [2, 'SS_DISABLE'], [0x80000000, 'SS_AUTODISARM']];
export const RWF_FLAGS: Xlat = [[1, 'RWF_HIPRI'], [2, 'RWF_DSYNC'], [4, 'RWF_SYNC'], [8, 'RWF_NOWAIT'], [16, 'RWF_APPEND'], [32, 'RWF_NOAPPEND'], [64, 'RWF_ATOMIC']];
export const DUMPABLE: Xlat = [[0, 'SUID_DUMP_DISABLE'], [1, 'SUID_DUMP_USER'], [2, 'SUID_DUMP_ROOT']];
export const TFD_FLAGS: Xlat = [[0o2000000, 'TFD_CLOEXEC'], [0o4000, 'TFD_NONBLOCK']];
export const INOTIFY_INIT_FLAGS: Xlat = [[0o2000000, 'IN_CLOEXEC'], [0o4000, 'IN_NONBLOCK']];
export const CLOSE_RANGE_FLAGS: Xlat = [[2, 'CLOSE_RANGE_UNSHARE'], [4, 'CLOSE_RANGE_CLOEXEC']];
export const RENAME_FLAGS: Xlat = [[1, 'RENAME_NOREPLACE'], [2, 'RENAME_EXCHANGE'], [4, 'RENAME_WHITEOUT']];
export const FALLOC_FLAGS: Xlat = [[1, 'FALLOC_FL_KEEP_SIZE'], [2, 'FALLOC_FL_PUNCH_HOLE'], [4, 'FALLOC_FL_NO_HIDE_STALE'],
  [8, 'FALLOC_FL_COLLAPSE_RANGE'], [16, 'FALLOC_FL_ZERO_RANGE'], [32, 'FALLOC_FL_INSERT_RANGE'], [64, 'FALLOC_FL_UNSHARE_RANGE']];
export const FADVISE: Xlat = [[0, 'POSIX_FADV_NORMAL'], [1, 'POSIX_FADV_RANDOM'], [2, 'POSIX_FADV_SEQUENTIAL'],
  [3, 'POSIX_FADV_WILLNEED'], [4, 'POSIX_FADV_DONTNEED'], [5, 'POSIX_FADV_NOREUSE']];

export const CLOCKS: Xlat = [
  [0, 'CLOCK_REALTIME'], [1, 'CLOCK_MONOTONIC'], [2, 'CLOCK_PROCESS_CPUTIME_ID'], [3, 'CLOCK_THREAD_CPUTIME_ID'],
  [4, 'CLOCK_MONOTONIC_RAW'], [5, 'CLOCK_REALTIME_COARSE'], [6, 'CLOCK_MONOTONIC_COARSE'], [7, 'CLOCK_BOOTTIME'],
  [8, 'CLOCK_REALTIME_ALARM'], [9, 'CLOCK_BOOTTIME_ALARM'], [10, 'CLOCK_SGI_CYCLE'], [11, 'CLOCK_TAI'],
];
export const TIMER_FLAGS: Xlat = [[1, 'TIMER_ABSTIME']];
export const ITIMERS: Xlat = [[0, 'ITIMER_REAL'], [1, 'ITIMER_VIRTUAL'], [2, 'ITIMER_PROF']];
export const RUSAGE_WHO: Xlat = [[0, 'RUSAGE_SELF'], [-1, 'RUSAGE_CHILDREN'], [1, 'RUSAGE_THREAD']];
export const PRIO_WHICH: Xlat = [[0, 'PRIO_PROCESS'], [1, 'PRIO_PGRP'], [2, 'PRIO_USER']];

export const ARCH_PRCTL: Xlat = [
  [0x1001, 'ARCH_SET_GS'], [0x1002, 'ARCH_SET_FS'], [0x1003, 'ARCH_GET_FS'], [0x1004, 'ARCH_GET_GS'],
  [0x1011, 'ARCH_GET_CPUID'], [0x1012, 'ARCH_SET_CPUID'], [0x1021, 'ARCH_GET_XCOMP_SUPP'],
  [0x1022, 'ARCH_GET_XCOMP_PERM'], [0x1023, 'ARCH_REQ_XCOMP_PERM'], [0x1024, 'ARCH_GET_XCOMP_GUEST_PERM'],
  [0x1025, 'ARCH_REQ_XCOMP_GUEST_PERM'], [0x2001, 'ARCH_MAP_VDSO_X32'], [0x2002, 'ARCH_MAP_VDSO_32'],
  [0x2003, 'ARCH_MAP_VDSO_64'],
];

export const PRCTL_OPS: Xlat = [
  [1, 'PR_SET_PDEATHSIG'], [2, 'PR_GET_PDEATHSIG'], [3, 'PR_GET_DUMPABLE'], [4, 'PR_SET_DUMPABLE'],
  [15, 'PR_SET_NAME'], [16, 'PR_GET_NAME'], [22, 'PR_SET_SECCOMP'], [21, 'PR_GET_SECCOMP'], [23, 'PR_CAPBSET_READ'],
  [24, 'PR_CAPBSET_DROP'], [36, 'PR_SET_CHILD_SUBREAPER'], [37, 'PR_GET_CHILD_SUBREAPER'], [38, 'PR_SET_NO_NEW_PRIVS'],
  [39, 'PR_GET_NO_NEW_PRIVS'], [47, 'PR_CAP_AMBIENT'], [59, 'PR_SET_SYSCALL_USER_DISPATCH'], [0x53564d41, 'PR_SET_VMA'],
];

export const S_IFMT = 0o170000;
export const FILE_TYPES: Xlat = [[0o140000, 'S_IFSOCK'], [0o120000, 'S_IFLNK'], [0o100000, 'S_IFREG'],
  [0o60000, 'S_IFBLK'], [0o40000, 'S_IFDIR'], [0o20000, 'S_IFCHR'], [0o10000, 'S_IFIFO']];

/** strace's print_symbolic_mode_t: S_IFREG|S_ISUID|0755 */
export function symbolicMode(mode: number): string {
  const type = mode & S_IFMT;
  let s = type ? `${lookup(type, FILE_TYPES) ?? octal(type)}|` : '';
  if (mode & 0o4000) s += 'S_ISUID|';
  if (mode & 0o2000) s += 'S_ISGID|';
  if (mode & 0o1000) s += 'S_ISVTX|';
  return s + octal(mode & 0o777, 3);
}

/** strace's print_numeric_umode_t / mode arguments: %#03o */
export function numericMode(mode: number): string {
  return octal(mode, 3);
}

export const STATX_MASK: Xlat = [
  [0xfff, 'STATX_ALL'], [0x7ff, 'STATX_BASIC_STATS'], [0x1, 'STATX_TYPE'], [0x2, 'STATX_MODE'], [0x4, 'STATX_NLINK'],
  [0x8, 'STATX_UID'], [0x10, 'STATX_GID'], [0x20, 'STATX_ATIME'], [0x40, 'STATX_MTIME'], [0x80, 'STATX_CTIME'],
  [0x100, 'STATX_INO'], [0x200, 'STATX_SIZE'], [0x400, 'STATX_BLOCKS'], [0x800, 'STATX_BTIME'], [0x1000, 'STATX_MNT_ID'],
  [0x2000, 'STATX_DIOALIGN'], [0x4000, 'STATX_MNT_ID_UNIQUE'], [0x8000, 'STATX_SUBVOL'], [0x10000, 'STATX_WRITE_ATOMIC'],
  [0x20000, 'STATX_DIO_READ_ALIGN'],
];
export const STATX_ATTRS: Xlat = [
  [0x4, 'STATX_ATTR_COMPRESSED'], [0x10, 'STATX_ATTR_IMMUTABLE'], [0x20, 'STATX_ATTR_APPEND'], [0x40, 'STATX_ATTR_NODUMP'],
  [0x800, 'STATX_ATTR_ENCRYPTED'], [0x1000, 'STATX_ATTR_AUTOMOUNT'], [0x2000, 'STATX_ATTR_MOUNT_ROOT'],
  [0x100000, 'STATX_ATTR_VERITY'], [0x200000, 'STATX_ATTR_DAX'], [0x400000, 'STATX_ATTR_WRITE_ATOMIC'],
];

export const STATFS_FLAGS: Xlat = [
  [32, 'ST_VALID'], [1, 'ST_RDONLY'], [2, 'ST_NOSUID'], [4, 'ST_NODEV'], [8, 'ST_NOEXEC'], [16, 'ST_SYNCHRONOUS'],
  [64, 'ST_MANDLOCK'], [128, 'ST_WRITE'], [256, 'ST_APPEND'], [512, 'ST_IMMUTABLE'], [1024, 'ST_NOATIME'],
  [2048, 'ST_NODIRATIME'], [4096, 'ST_RELATIME'], [8192, 'ST_NOSYMFOLLOW'],
];
/** file system magic numbers (statfs's f_type) */
export const FS_MAGIC: Xlat = [
  [0xadf5, 'ADFS_SUPER_MAGIC'], [0x42465331, 'BFS_MAGIC'], [0x9123683e, 'BTRFS_SUPER_MAGIC'], [0x27e0eb, 'CGROUP_SUPER_MAGIC'],
  [0x63677270, 'CGROUP2_SUPER_MAGIC'], [0x28cd3d45, 'CRAMFS_MAGIC'], [0x64626720, 'DEBUGFS_MAGIC'], [0x1cd1, 'DEVPTS_SUPER_MAGIC'],
  [0xf15f, 'ECRYPTFS_SUPER_MAGIC'], [0xe0f5e1e2, 'EROFS_SUPER_MAGIC_V1'], [0xef53, 'EXT2_SUPER_MAGIC'],
  [0xf2f52010, 'F2FS_SUPER_MAGIC'], [0x65735546, 'FUSE_SUPER_MAGIC'], [0x958458f6, 'HUGETLBFS_MAGIC'],
  [0x9660, 'ISOFS_SUPER_MAGIC'], [0x4d44, 'MSDOS_SUPER_MAGIC'], [0x6969, 'NFS_SUPER_MAGIC'], [0x6e736673, 'NSFS_MAGIC'],
  [0x5346544e, 'NTFS_SB_MAGIC'], [0x794c7630, 'OVERLAYFS_SUPER_MAGIC'], [0x50495045, 'PIPEFS_MAGIC'],
  [0x9fa0, 'PROC_SUPER_MAGIC'], [0x6165676c, 'PSTOREFS_MAGIC'], [0x858458f6, 'RAMFS_MAGIC'], [0x52654973, 'REISERFS_SUPER_MAGIC'],
  [0x73636673, 'SECURITYFS_MAGIC'], [0xf97cff8c, 'SELINUX_MAGIC'], [0x43415d53, 'SMACK_MAGIC'], [0x517b, 'SMB_SUPER_MAGIC'],
  [0xfe534d42, 'SMB2_SUPER_MAGIC'], [0x534f434b, 'SOCKFS_MAGIC'], [0x73717368, 'SQUASHFS_MAGIC'], [0x62656572, 'SYSFS_MAGIC'],
  [0x01021994, 'TMPFS_MAGIC'], [0x74726163, 'TRACEFS_MAGIC'], [0x15013346, 'UDF_SUPER_MAGIC'], [0x58465342, 'XFS_SUPER_MAGIC'],
  [0x2fc12fc1, 'ZFS_SUPER_MAGIC'], [0x01021997, 'V9FS_MAGIC'], [0xbad1dea, 'FUTEXFS_SUPER_MAGIC'], [0x42494e4d, 'BINFMTFS_MAGIC'],
  [0x6c6f6f70, 'BINDERFS_SUPER_MAGIC'], [0xcafe4a11, 'BPF_FS_MAGIC'], [0x09041934, 'ANON_INODE_FS_MAGIC'],
];

// terminals (struct termios, asm-generic/termbits.h)
export const TERM_IFLAGS: Xlat = [
  [0o1, 'IGNBRK'], [0o2, 'BRKINT'], [0o4, 'IGNPAR'], [0o10, 'PARMRK'], [0o20, 'INPCK'], [0o40, 'ISTRIP'], [0o100, 'INLCR'],
  [0o200, 'IGNCR'], [0o400, 'ICRNL'], [0o1000, 'IUCLC'], [0o2000, 'IXON'], [0o4000, 'IXANY'], [0o10000, 'IXOFF'],
  [0o20000, 'IMAXBEL'], [0o40000, 'IUTF8'],
];
export const TERM_OFLAGS: Xlat = [[0o1, 'OPOST'], [0o2, 'OLCUC'], [0o4, 'ONLCR'], [0o10, 'OCRNL'], [0o20, 'ONOCR'],
  [0o40, 'ONLRET'], [0o100, 'OFILL'], [0o200, 'OFDEL']];
/** [mask, names by value] of the delay fields of c_oflag, in strace's order */
export const TERM_ODELAYS: readonly (readonly [number, Xlat, string])[] = [
  [0o400, [[0, 'NL0'], [0o400, 'NL1']], 'NL?'],
  [0o3000, [[0, 'CR0'], [0o1000, 'CR1'], [0o2000, 'CR2'], [0o3000, 'CR3']], 'CR?'],
  [0o14000, [[0, 'TAB0'], [0o4000, 'TAB1'], [0o10000, 'TAB2'], [0o14000, 'TAB3']], 'TAB?'],
  [0o20000, [[0, 'BS0'], [0o20000, 'BS1']], 'BS?'],
  [0o40000, [[0, 'VT0'], [0o40000, 'VT1']], 'VT?'],
  [0o100000, [[0, 'FF0'], [0o100000, 'FF1']], 'FF?'],
];
export const TERM_CFLAGS: Xlat = [[0o100, 'CSTOPB'], [0o200, 'CREAD'], [0o400, 'PARENB'], [0o1000, 'PARODD'],
  [0o2000, 'HUPCL'], [0o4000, 'CLOCAL'], [0o10000000000, 'CMSPAR'], [0o20000000000, 'CRTSCTS']];
export const TERM_CSIZE: Xlat = [[0, 'CS5'], [0o20, 'CS6'], [0o40, 'CS7'], [0o60, 'CS8']];
export const BAUDS: Xlat = [
  ...['B0', 'B50', 'B75', 'B110', 'B134', 'B150', 'B200', 'B300', 'B600', 'B1200', 'B1800', 'B2400', 'B4800', 'B9600',
    'B19200', 'B38400'].map((n, i) => [i, n] as const),
  [0o10000, 'BOTHER'],
  ...['B57600', 'B115200', 'B230400', 'B460800', 'B500000', 'B576000', 'B921600', 'B1000000', 'B1152000', 'B1500000',
    'B2000000', 'B2500000', 'B3000000', 'B3500000', 'B4000000'].map((n, i) => [0o10001 + i, n] as const),
];
export const TERM_LFLAGS: Xlat = [
  [0o1, 'ISIG'], [0o2, 'ICANON'], [0o4, 'XCASE'], [0o10, 'ECHO'], [0o20, 'ECHOE'], [0o40, 'ECHOK'], [0o100, 'ECHONL'],
  [0o200, 'NOFLSH'], [0o100000, 'IEXTEN'], [0o1000, 'ECHOCTL'], [0o2000, 'ECHOPRT'], [0o4000, 'ECHOKE'],
  [0o10000, 'FLUSHO'], [0o40000, 'PENDIN'], [0o400, 'TOSTOP'], [0o200000, 'EXTPROC'],
];

/** ioctl request codes strace names (terminal and file ioctls). */
export const IOCTLS: Xlat = [
  [0x5401, 'TCGETS'], [0x5402, 'TCSETS'], [0x5403, 'TCSETSW'], [0x5404, 'TCSETSF'], [0x5405, 'TCGETA'],
  [0x5406, 'TCSETA'], [0x5407, 'TCSETAW'], [0x5408, 'TCSETAF'], [0x5409, 'TCSBRK'], [0x540a, 'TCXONC'],
  [0x540b, 'TCFLSH'], [0x540c, 'TIOCEXCL'], [0x540d, 'TIOCNXCL'], [0x540e, 'TIOCSCTTY'], [0x540f, 'TIOCGPGRP'],
  [0x5410, 'TIOCSPGRP'], [0x5411, 'TIOCOUTQ'], [0x5412, 'TIOCSTI'], [0x5413, 'TIOCGWINSZ'], [0x5414, 'TIOCSWINSZ'],
  [0x5415, 'TIOCMGET'], [0x5416, 'TIOCMBIS'], [0x5417, 'TIOCMBIC'], [0x5418, 'TIOCMSET'], [0x5419, 'TIOCGSOFTCAR'],
  [0x541a, 'TIOCSSOFTCAR'], [0x541b, 'FIONREAD'], [0x541c, 'TIOCLINUX'], [0x541d, 'TIOCCONS'], [0x541e, 'TIOCGSERIAL'],
  [0x541f, 'TIOCSSERIAL'], [0x5420, 'TIOCPKT'], [0x5421, 'FIONBIO'], [0x5422, 'TIOCNOTTY'], [0x5423, 'TIOCSETD'],
  [0x5424, 'TIOCGETD'], [0x5425, 'TCSBRKP'], [0x5427, 'TIOCSBRK'], [0x5428, 'TIOCCBRK'], [0x5429, 'TIOCGSID'],
  [0x802c542a, 'TCGETS2'], [0x402c542b, 'TCSETS2'], [0x402c542c, 'TCSETSW2'], [0x402c542d, 'TCSETSF2'],
  [0x80045430, 'TIOCGPTN'], [0x40045431, 'TIOCSPTLCK'], [0x80045432, 'TIOCGDEV'], [0x40045436, 'TIOCSIG'],
  [0x5437, 'TIOCVHANGUP'], [0x80045438, 'TIOCGPKT'], [0x80045439, 'TIOCGPTLCK'], [0x80045440, 'TIOCGEXCL'],
  [0x5441, 'TIOCGPTPEER'], [0x5450, 'FIONCLEX'], [0x5451, 'FIOCLEX'], [0x5452, 'FIOASYNC'], [0x5453, 'TIOCSERCONFIG'],
  [0x5454, 'TIOCSERGWILD'], [0x5455, 'TIOCSERSWILD'], [0x5456, 'TIOCGLCKTRMIOS'], [0x5457, 'TIOCSLCKTRMIOS'],
  [0x5458, 'TIOCSERGSTRUCT'], [0x5459, 'TIOCSERGETLSR'], [0x545a, 'TIOCSERGETMULTI'], [0x545b, 'TIOCSERSETMULTI'],
  [0x545c, 'TIOCMIWAIT'], [0x545d, 'TIOCGICOUNT'], [0x5460, 'FIOQSIZE'],
  [0x8901, 'FIOSETOWN'], [0x8902, 'SIOCSPGRP'], [0x8903, 'FIOGETOWN'], [0x8904, 'SIOCGPGRP'], [0x8905, 'SIOCATMARK'],
  [0x8912, 'SIOCGIFCONF'], [0x8913, 'SIOCGIFFLAGS'], [0x8914, 'SIOCSIFFLAGS'], [0x8915, 'SIOCGIFADDR'],
  [0x8921, 'SIOCGIFMTU'], [0x8927, 'SIOCGIFHWADDR'], [0x8933, 'SIOCGIFINDEX'], [0x8910, 'SIOCGIFNAME'],
  [0x80081272, 'BLKGETSIZE64'], [0x1260, 'BLKGETSIZE'], [0x1268, 'BLKSSZGET'], [0x40049409, 'BTRFS_IOC_CLONE'],
  [0x80086601, 'FS_IOC_GETFLAGS'], [0x40086602, 'FS_IOC_SETFLAGS'], [0xc020660b, 'FS_IOC_FIEMAP'],
  [0x4c00, 'LOOP_SET_FD'], [0x4c01, 'LOOP_CLR_FD'],
];

const IOC_DIRS = ['_IOC_NONE', '_IOC_WRITE', '_IOC_READ', '_IOC_READ|_IOC_WRITE'];

/** An ioctl request: its name, or _IOC(dir, type, nr, size) as strace writes unknown ones. */
export function ioctlName(code: number): string {
  const n = lookup(code, IOCTLS);
  if (n) return n;
  const dir = (code >>> 30) & 3;
  const size = (code >>> 16) & 0x3fff;
  const type = (code >>> 8) & 0xff;
  const nr = code & 0xff;
  return `_IOC(${IOC_DIRS[dir]}, ${hex(type)}, ${hex(nr)}, ${hex(size)})`;
}
