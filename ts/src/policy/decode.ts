// strace's decoders for the common x86-64 calls: each turns a call (its arguments, result and
// captured memory, see capture.ts) into the argument texts strace prints. An argument whose
// memory was not captured (or a call that failed, for memory the kernel would have written)
// is printed as strace prints an address it could not read: in hex.
import type { Call, Captured } from './format.js';
import { signalName } from './names.js';
import { quoteBytes, quoteLimited } from './quote.js';
import * as X from './xlat.js';

/** What a decoder gives: the arguments, and how to print the result when the call did not
 *  fail (ret: the whole text; retFormat: hex or octal; noReturn: `?`). */
export interface Decoded {
  args: string[];
  ret?: string;
  retFormat?: 'hex' | 'octal';
  noReturn?: boolean;
}
export type Decoder = (c: Call) => Decoded;

// ---- arguments ------------------------------------------------------------------------------

const int = (c: Call, i: number): string => String(c.int(i));
const uint = (c: Call, i: number): string => String(c.uint(i));
const ulong = (c: Call, i: number): string => c.a(i).toString();
const long = (c: Call, i: number): string => c.long(i).toString();
const dirfd = (c: Call, i: number): string => (c.int(i) === X.AT_FDCWD ? 'AT_FDCWD' : int(c, i));
const mode = (c: Call, i: number): string => X.numericMode(c.uint(i));

/** strace's printsignal: SIGINT, SIGRTMIN, SIGRT_3, or the number */
export function signalArg(sig: number): string {
  return sig === 0 ? '0' : signalName(sig) ?? String(sig);
}

/** a path the call reads (never cut at -s) */
function path(c: Call, i: number): string {
  if (c.a(i) === 0n) return 'NULL';
  const d = c.cap(i, 'in');
  return d ? quoteBytes(d.bytes) + (d.truncated ? '...' : '') : c.ptr(i);
}

/** a NUL-terminated string the call reads, cut at -s */
function str(c: Call, i: number): string {
  if (c.a(i) === 0n) return 'NULL';
  const d = c.cap(i, 'in');
  return d ? quoteLimited(d.bytes, c.opts.strsize, d.truncated) : c.ptr(i);
}

/** a buffer the call reads */
function bufIn(c: Call, i: number): string {
  if (c.a(i) === 0n) return 'NULL';
  const d = c.cap(i, 'in');
  return d ? quoteLimited(d.bytes, c.opts.strsize, d.truncated) : c.ptr(i);
}

/** a buffer the call writes (the result's count of bytes) */
function bufOut(c: Call, i: number, hex = false): string {
  if (c.failed) return c.ptr(i);
  const d = c.cap(i, 'out');
  if (d) return quoteLimited(d.bytes, c.opts.strsize, d.truncated, hex);
  if (c.ret === 0n && c.a(i) !== 0n) return '""';
  return c.ptr(i);
}

/** memory of at least size bytes at argument i (dir), read by f, else the address */
function struct(c: Call, i: number, dir: 'in' | 'out', size: number, f: (v: DataView, d: Captured) => string): string {
  if (c.a(i) === 0n) return 'NULL';
  const d = c.cap(i, dir);
  if (!d || d.bytes.length < size) return c.ptr(i);
  return f(new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength), d);
}

const u64 = (v: DataView, o: number): bigint => v.getBigUint64(o, true);
const i64 = (v: DataView, o: number): bigint => v.getBigInt64(o, true);
const u32 = (v: DataView, o: number): number => v.getUint32(o, true);
const i32 = (v: DataView, o: number): number => v.getInt32(o, true);
const u16 = (v: DataView, o: number): number => v.getUint16(o, true);

const timespec = (v: DataView, o = 0): string => `{tv_sec=${i64(v, o)}, tv_nsec=${i64(v, o + 8)}}`;
const timeval = (v: DataView, o = 0): string => `{tv_sec=${i64(v, o)}, tv_usec=${i64(v, o + 8)}}`;

/** [N] of an int the call reads or writes */
const intIn = (c: Call, i: number): string => struct(c, i, 'in', 4, (v) => `[${i32(v, 0)}]`);
const intOut = (c: Call, i: number): string => struct(c, i, 'out', 4, (v) => `[${i32(v, 0)}]`);
const intPair = (c: Call, i: number): string => struct(c, i, 'out', 8, (v) => `[${i32(v, 0)}, ${i32(v, 4)}]`);

// ---- structs ----------------------------------------------------------------------------------

function makedev(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `makedev(${X.hex(major)}, ${X.hex(minor)})`;
}

/** struct stat (x86-64), abbreviated as strace does */
function stat(v: DataView): string {
  const m = u32(v, 24);
  const type = m & X.S_IFMT;
  const sizeOrDev = type === 0o20000 || type === 0o60000 ? `st_rdev=${makedev(u64(v, 40))}` : `st_size=${i64(v, 48)}`;
  return `{st_mode=${X.symbolicMode(m)}, ${sizeOrDev}, ...}`;
}

/** struct statx, abbreviated */
function statx(v: DataView): string {
  return `{stx_mask=${X.flags(u32(v, 0), X.STATX_MASK, 'STATX_???')}, stx_attributes=${X.flags(u64(v, 8), X.STATX_ATTRS, 'STATX_ATTR_???')}, `
    + `stx_mode=${X.symbolicMode(u16(v, 28))}, stx_size=${u64(v, 40)}, ...}`;
}

function rlimValue(v: bigint): string {
  if (v === 0xffffffffffffffffn) return 'RLIM64_INFINITY';
  if (v > 1024n && v % 1024n === 0n) return `${v / 1024n}*1024`;
  return v.toString();
}
const rlimit = (v: DataView): string => `{rlim_cur=${rlimValue(u64(v, 0))}, rlim_max=${rlimValue(u64(v, 8))}}`;

/** a sigset of bytes*8 signals: [INT TERM], or ~[...] when at least half are set */
function sigset(v: DataView, bytes: number): string {
  const n = bytes * 8;
  const set: boolean[] = [];
  let count = 0;
  for (let s = 1; s <= n; s++) {
    const bit = ((v.getUint8((s - 1) >> 3) >> ((s - 1) & 7)) & 1) === 1;
    set[s] = bit;
    if (bit) count++;
  }
  const invert = count >= n / 2;
  const names: string[] = [];
  for (let s = 1; s <= n; s++) {
    if (set[s] === invert) continue;
    if (s < 32) names.push((signalName(s) as string).slice(3));
    else if (s <= 64) names.push(s === 32 ? 'RTMIN' : `RT_${s - 32}`);
    else names.push(String(s));
  }
  return `${invert ? '~' : ''}[${names.join(' ')}]`;
}

function sigsetArg(c: Call, i: number, dir: 'in' | 'out', sizeArg = 3): string {
  const size = Math.min(Number(c.a(sizeArg) > 128n ? 128n : c.a(sizeArg)), 128) || 8;
  return struct(c, i, dir, Math.min(size, 8), (v) => sigset(v, Math.min(size, v.byteLength)));
}

/** struct kernel_sigaction (x86-64): handler, flags, restorer, mask */
function sigaction(v: DataView): string {
  const handler = u64(v, 0);
  const h = handler === 0n ? 'SIG_DFL' : handler === 1n ? 'SIG_IGN' : handler === 0xffffffffffffffffn ? 'SIG_ERR' : X.hex(handler);
  const fl = u64(v, 8);
  let s = `{sa_handler=${h}, sa_mask=${sigset(new DataView(v.buffer, v.byteOffset + 24, 8), 8)}, sa_flags=${X.flags(fl, X.SIGACT_FLAGS)}`;
  if (fl & 0x04000000n) s += `, sa_restorer=${X.hex(u64(v, 16))}`;
  return `${s}}`;
}

function inetNtop6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (cur.base < 0) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base >= 0) {
      if (best.base < 0 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base >= 0 && (best.base < 0 || cur.len > best.len)) best = cur;
  if (best.base >= 0 && best.len < 2) best = { base: -1, len: 0 };
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (best.base >= 0 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      s += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      break;
    }
    s += (w[i] as number).toString(16);
  }
  if (best.base >= 0 && best.base + best.len === 8) s += ':';
  return s;
}

/** struct sockaddr of len bytes */
function sockaddr(v: DataView, len: number): string {
  if (len < 2) return '{}';
  const family = u16(v, 0);
  const fam = `sa_family=${X.xval(family, X.ADDRESS_FAMILIES, 'AF_???')}`;
  const bytes = new Uint8Array(v.buffer, v.byteOffset, Math.min(len, v.byteLength));
  if (family === X.AF_UNIX) {
    if (len <= 2) return `{${fam}}`;
    const p = bytes.subarray(2);
    if (p[0] === 0 && p.length > 1) return `{${fam}, sun_path=@${quoteBytes(p.subarray(1))}}`;
    const nul = p.indexOf(0);
    return `{${fam}, sun_path=${quoteBytes(nul < 0 ? p : p.subarray(0, nul))}}`;
  }
  if (family === X.AF_INET && len >= 8) {
    const port = v.getUint16(2, false);
    return `{${fam}, sin_port=htons(${port}), sin_addr=inet_addr("${bytes[4]}.${bytes[5]}.${bytes[6]}.${bytes[7]}")}`;
  }
  if (family === X.AF_INET6 && len >= 24) {
    const port = v.getUint16(2, false);
    const flow = v.getUint32(4, false);
    const scope = len >= 28 ? `, sin6_scope_id=${u32(v, 24)}` : '';
    return `{${fam}, sin6_port=htons(${port}), sin6_flowinfo=htonl(${flow}), inet_pton(AF_INET6, "${inetNtop6(bytes.subarray(8, 24))}", &sin6_addr)${scope}}`;
  }
  if (family === X.AF_NETLINK && len >= 12) {
    return `{${fam}, nl_pid=${u32(v, 4)}, nl_groups=${u32(v, 8).toString(16).padStart(8, '0')}}`;
  }
  return `{${fam}, sa_data=${quoteBytes(bytes.subarray(2))}}`;
}

/** a sockaddr the call reads, len from argument lenArg */
function sockaddrIn(c: Call, i: number, lenArg: number): string {
  if (c.a(i) === 0n) return 'NULL';
  const len = c.int(lenArg);
  return struct(c, i, 'in', Math.min(Math.max(len, 0), 2), (v) => sockaddr(v, len));
}

/** a sockaddr the call writes and its socklen_t (in and out) at lenArg: `addr, [in => out]` */
function sockaddrOut(c: Call, i: number, lenArg: number): [string, string] {
  if (c.a(lenArg) === 0n) return [c.ptr(i), 'NULL'];
  const inLen = c.cap(lenArg, 'in');
  const lin = inLen && inLen.bytes.length >= 4 ? u32(new DataView(inLen.bytes.buffer, inLen.bytes.byteOffset, 4), 0) : undefined;
  const outLen = c.cap(lenArg, 'out');
  const lout = outLen && outLen.bytes.length >= 4 ? u32(new DataView(outLen.bytes.buffer, outLen.bytes.byteOffset, 4), 0) : undefined;
  let addr = c.ptr(i);
  if (c.a(i) !== 0n && lout !== undefined && lin !== undefined && Math.min(lin, lout) >= 2) {
    const n = Math.min(lin, lout);
    addr = struct(c, i, 'out', 2, (v) => sockaddr(v, n));
  }
  let lenText = c.ptr(lenArg);
  if (lin !== undefined) lenText = lout !== undefined && lout !== lin ? `[${lin} => ${lout}]` : `[${lin}]`;
  return [addr, lenText];
}

function termios(v: DataView): string {
  const o = u32(v, 4);
  const oparts: string[] = [];
  let orest = o;
  for (const [mask, table, dflt] of X.TERM_ODELAYS) {
    oparts.push(X.xval(o & mask, table, dflt));
    orest &= ~mask;
  }
  oparts.push(X.flags(orest, X.TERM_OFLAGS));
  const cf = u32(v, 8);
  const cparts = [X.xval(cf & 0o10017, X.BAUDS, 'B???')];
  const cibaud = (cf >>> 16) & 0o10017;
  if (cibaud) cparts.push(`${X.xval(cibaud, X.BAUDS, 'B???')}<<IBSHIFT`);
  cparts.push(X.xval(cf & 0o60, X.TERM_CSIZE, 'CS?'));
  cparts.push(X.flags(cf & ~(0o10017 | 0o60 | (0o10017 << 16)), X.TERM_CFLAGS));
  return `{c_iflag=${X.flags(u32(v, 0), X.TERM_IFLAGS)}, c_oflag=${oparts.join('|')}, c_cflag=${cparts.join('|')}, `
    + `c_lflag=${X.flags(u32(v, 12), X.TERM_LFLAGS)}, ...}`;
}

function statfs(v: DataView): string {
  const u = (o: number) => u64(v, o).toString();
  const fsid = `{val=[${X.hex(u32(v, 56))}, ${X.hex(u32(v, 60))}]}`;
  return `{f_type=${X.xval(i64(v, 0), X.FS_MAGIC, '???_MAGIC')}, f_bsize=${i64(v, 8)}, f_blocks=${u(16)}, f_bfree=${u(24)}, `
    + `f_bavail=${u(32)}, f_files=${u(40)}, f_ffree=${u(48)}, f_fsid=${fsid}, f_namelen=${i64(v, 64)}, f_frsize=${i64(v, 72)}, `
    + `f_flags=${X.flags(u64(v, 80), X.STATFS_FLAGS, 'ST_???')}}`;
}

/** struct iovec arrays: the captured elements (iov encoding of capture.ts) */
function iovec(c: Call, i: number, countArg: number, contents: 'in' | 'out' | 'none'): string {
  if (c.a(i) === 0n) return 'NULL';
  const cap = (contents === 'out' ? c.cap(i, 'out') : undefined) ?? c.cap(i, 'in');
  if (!cap) return c.ptr(i);
  const b = cap.bytes;
  const items: string[] = [];
  let left = contents === 'out' ? c.ret : -1n; // bytes of contents not yet shown (readv: the result)
  const count = c.a(countArg);
  for (let off = 0; off + 20 <= b.length && BigInt(items.length) < count;) {
    const base = b.readBigUInt64LE(off);
    const len = b.readBigUInt64LE(off + 8);
    const n = b.readUInt32LE(off + 16);
    const data = b.subarray(off + 20, off + 20 + n);
    off += 20 + n;
    let text: string;
    if (contents === 'none' || (contents === 'out' && cap.dir === 'in')) text = base === 0n ? 'NULL' : X.hex(base);
    else {
      const avail = left < 0n ? len : len < left ? len : left;
      if (left >= 0n) left -= avail;
      text = quoteBytes(data) + (avail > BigInt(data.length) ? '...' : '');
    }
    items.push(`{iov_base=${text}, iov_len=${len}}`);
  }
  if (cap.truncated) items.push('...');
  return `[${items.join(', ')}]`;
}

function epollEvent(v: DataView, o: number): string {
  const data = u64(v, o + 4);
  return `{events=${X.flags(u32(v, o), X.EPOLL_EVENTS, 'EPOLL???')}, data={u32=${Number(data & 0xffffffffn)}, u64=${data}}}`;
}

function epollEvents(c: Call, i: number): string {
  if (c.failed) return c.ptr(i);
  if (c.ret === 0n) return '[]';
  return struct(c, i, 'out', 12, (v) => {
    const items: string[] = [];
    for (let k = 0; k < Number(c.ret) && 12 * k + 12 <= v.byteLength; k++) {
      if (items.length >= c.opts.strsize) {
        items.push('...');
        break;
      }
      items.push(epollEvent(v, 12 * k));
    }
    return `[${items.join(', ')}]`;
  });
}

const stack = (v: DataView): string =>
  `{ss_sp=${u64(v, 0) === 0n ? 'NULL' : X.hex(u64(v, 0))}, ss_flags=${X.flags(u32(v, 8), X.SS_FLAGS, 'SS_???')}, ss_size=${u64(v, 16)}}`;

function sysinfo(v: DataView): string {
  const u = (o: number) => u64(v, o).toString();
  return `{uptime=${i64(v, 0)}, loads=[${u(8)}, ${u(16)}, ${u(24)}], totalram=${u(32)}, freeram=${u(40)}, sharedram=${u(48)}, `
    + `bufferram=${u(56)}, totalswap=${u(64)}, freeswap=${u(72)}, procs=${u16(v, 80)}, totalhigh=${u(88)}, freehigh=${u(96)}, `
    + `mem_unit=${u32(v, 104)}}`;
}

function prctl(c: Call): Decoded {
  const op = c.int(0);
  const name = X.xval(op, X.PRCTL_OPS, 'PR_???');
  switch (op) {
    case 15: return { args: [name, str(c, 1)] }; // PR_SET_NAME
    case 16: return { args: [name, struct(c, 1, 'out', 16, (v) => cstr(v, 0, 16))] }; // PR_GET_NAME
    case 1: return { args: [name, signalArg(c.int(1))] }; // PR_SET_PDEATHSIG
    case 3: return { args: [name], ret: c.failed ? undefined : `${c.ret} (${X.xval(c.ret, X.DUMPABLE, 'SUID_DUMP_???')})` };
    case 4: return { args: [name, X.xval(c.a(1), X.DUMPABLE, 'SUID_DUMP_???')] }; // PR_SET_DUMPABLE
    case 38: return { args: [name, ulong(c, 1), ulong(c, 2), ulong(c, 3), ulong(c, 4)] }; // PR_SET_NO_NEW_PRIVS
    default: return { args: [name, X.hex(c.a(1)), X.hex(c.a(2)), X.hex(c.a(3)), X.hex(c.a(4))] };
  }
}

const winsize = (v: DataView): string =>
  `{ws_row=${u16(v, 0)}, ws_col=${u16(v, 2)}, ws_xpixel=${u16(v, 4)}, ws_ypixel=${u16(v, 6)}}`;

function cstr(v: DataView, off: number, size: number): string {
  const b = new Uint8Array(v.buffer, v.byteOffset + off, size);
  const nul = b.indexOf(0);
  return quoteBytes(nul < 0 ? b : b.subarray(0, nul));
}

function waitStatus(s: number): string {
  let text: string;
  const low = s & 0x7f;
  if ((s & 0xff) === 0x7f) text = `WIFSTOPPED(s) && WSTOPSIG(s) == ${signalArg((s >> 8) & 0xff)}`;
  else if (low !== 0) text = `WIFSIGNALED(s) && WTERMSIG(s) == ${signalArg(low)}${s & 0x80 ? ' && WCOREDUMP(s)' : ''}`;
  else if (s === 0xffff) text = 'WIFCONTINUED(s)';
  else text = `WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}`;
  const rest = s & ~0xffff;
  return `[{${text}}${rest ? ` | ${X.hex(rest >>> 0)}` : ''}]`;
}

function rusage(v: DataView): string {
  return `{ru_utime=${timeval(v, 0)}, ru_stime=${timeval(v, 16)}, ...}`;
}

function pollfds(v: DataView, n: number, out: boolean, strsize: number): string {
  const items: string[] = [];
  for (let k = 0; k < n && 8 * k + 8 <= v.byteLength; k++) {
    const fd = i32(v, 8 * k);
    if (out) {
      const re = u16(v, 8 * k + 6);
      if (re) items.push(`{fd=${fd}, revents=${X.flags(re, X.POLL_EVENTS)}}`);
    } else {
      if (items.length >= strsize) {
        items.push('...');
        break;
      }
      items.push(`{fd=${fd}, events=${X.flags(u16(v, 8 * k + 4), X.POLL_EVENTS)}}`);
    }
  }
  return `[${items.join(', ')}]`;
}

function cpuMask(b: Uint8Array): string {
  const cpus: number[] = [];
  for (let i = 0; i < b.length * 8; i++) if (((b[i >> 3] as number) >> (i & 7)) & 1) cpus.push(i);
  return `[${cpus.join(' ')}]`;
}

function dirents(b: Uint8Array): number | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let n = 0;
  for (let off = 0; off + 19 <= b.length;) {
    const reclen = u16(v, off + 16);
    if (reclen === 0) return undefined;
    off += reclen;
    n++;
  }
  return n;
}

function argv(c: Call, i: number): string {
  if (c.a(i) === 0n) return 'NULL';
  const d = c.cap(i, 'in');
  if (!d) return c.ptr(i);
  const items: string[] = [];
  let start = 0;
  for (let k = 0; k < d.bytes.length; k++) {
    if (d.bytes[k] !== 0) continue;
    items.push(quoteLimited(d.bytes.subarray(start, k), c.opts.strsize, false));
    start = k + 1;
  }
  if (d.truncated) items.push('...');
  return `[${items.join(', ')}]`;
}

function envp(c: Call, i: number): string {
  if (c.a(i) === 0n) return 'NULL';
  const d = c.cap(i, 'in');
  if (!d || d.bytes.length < 4) return c.ptr(i);
  const n = new DataView(d.bytes.buffer, d.bytes.byteOffset, 4).getUint32(0, true);
  return `${c.ptr(i)} /* ${n} var${n === 1 ? '' : 's'} */`;
}

// ---- decoders -----------------------------------------------------------------------------------

const openMode = (c: Call, flagsArg: number): string[] => {
  const f = c.uint(flagsArg);
  const out = [X.openFlags(f)];
  if (f & (X.O_CREAT | 0o20000000)) out.push(mode(c, flagsArg + 1));
  return out;
};

const statFlagsAt = (c: Call, i: number): string => X.flags(c.uint(i), X.AT_FLAGS, 'AT_???');

function statxFlags(v: number): string {
  const sync = X.xval(v & 0x6000, X.STATX_SYNC, 'AT_STATX_SYNC_???');
  const rest = v & ~0x6000;
  return rest ? `${sync}|${X.flags(rest, X.AT_FLAGS)}` : sync;
}

const prot = (c: Call, i: number): string => X.flags(c.a(i), X.PROT, 'PROT_???', 'PROT_NONE');

function socketProtocol(family: number, proto: number): string {
  if (family === X.AF_INET || family === X.AF_INET6) return X.xval(proto, X.INET_PROTOCOLS, 'IPPROTO_???');
  if (family === X.AF_NETLINK) return X.xval(proto, X.NETLINK_PROTOCOLS, 'NETLINK_???');
  return String(proto);
}

const msgFlags = (c: Call, i: number): string => X.flags(c.uint(i), X.MSG_FLAGS, 'MSG_???');

function sockoptName(level: number, name: number): string {
  return level === 1 ? X.xval(name, X.SOL_SOCKET_OPTS, 'SO_???', true) : String(name);
}

const NO_ARG_IOCTLS = new Set([0x5427, 0x5428, 0x541d, 0x5422, 0x540c, 0x540d, 0x5451, 0x5450, 0x5437, 0x541f]);
const INT_OUT_IOCTLS = new Set([0x540f, 0x5429, 0x5424, 0x5419, 0x80045430, 0x541b, 0x5411, 0x80045440, 0x80045432]);
const INT_IN_IOCTLS = new Set([0x5410, 0x5423, 0x5421, 0x5452, 0x5420, 0x541a, 0x40045431]);

function ioctl(c: Call): Decoded {
  const req = c.uint(1);
  const args = [int(c, 0), X.ioctlName(req)];
  if (NO_ARG_IOCTLS.has(req)) return { args };
  let arg: string;
  if (req === 0x5401) arg = struct(c, 2, 'out', 36, termios);
  else if (req >= 0x5402 && req <= 0x5404) arg = struct(c, 2, 'in', 36, termios);
  else if (req === 0x5413) arg = struct(c, 2, 'out', 8, winsize);
  else if (req === 0x5414) arg = struct(c, 2, 'in', 8, winsize);
  else if (INT_OUT_IOCTLS.has(req)) arg = intOut(c, 2);
  else if (INT_IN_IOCTLS.has(req)) arg = intIn(c, 2);
  else if (req === 0x5409 || req === 0x5425 || req === 0x540e) arg = int(c, 2);
  else arg = X.hex(c.a(2));
  return { args: [...args, arg] };
}

function fcntl(c: Call): Decoded {
  const cmd = c.int(1);
  const args = [int(c, 0), X.xval(cmd, X.FCNTL_CMDS, 'F_???')];
  switch (cmd) {
    case 1: // F_GETFD
      return { args, ret: c.ret === 0n ? '0' : `${X.hex(c.ret)} (flags ${X.flags(c.ret, X.FD_FLAGS)})` };
    case 3: // F_GETFL
      return { args, ret: `${X.hex(c.ret)} (flags ${X.openFlags(c.ret)})` };
    case 1034: // F_GET_SEALS
      return { args, ret: c.ret === 0n ? '0' : `${X.hex(c.ret)} (seals ${X.flags(c.ret, X.SEALS)})` };
    case 9: case 11: case 1025: case 1032: case 1035: case 1037: // F_GETOWN F_GETSIG F_GETLEASE F_GETPIPE_SZ ...
      return { args };
    case 2: // F_SETFD
      return { args: [...args, X.flags(c.a(2), X.FD_FLAGS)] };
    case 4: // F_SETFL
      return { args: [...args, X.openFlags(c.a(2))] };
    case 1033: // F_ADD_SEALS
      return { args: [...args, X.flags(c.a(2), X.SEALS)] };
    case 0: case 1030: case 8: case 10: case 1031: case 1026: case 1024:
      return { args: [...args, int(c, 2)] };
    default:
      return { args: [...args, X.hex(c.a(2))] };
  }
}

function futex(c: Call): Decoded {
  const op = c.int(1);
  const cmd = op & 0x7f;
  let opName = X.xval(cmd, X.FUTEX_CMDS, 'FUTEX_???');
  if (!opName.includes('/*')) {
    if (op & 128) opName += '_PRIVATE';
    if (op & 256) opName += '|FUTEX_CLOCK_REALTIME';
    if (op & ~(0x7f | 128 | 256)) opName = `${X.hex(c.uint(1))} /* FUTEX_??? */`;
  }
  const args = [c.ptr(0), opName];
  const val = uint(c, 2);
  const timeout = (): string => struct(c, 3, 'in', 16, (v) => timespec(v));
  const bitset = (): string => (c.uint(5) === 0xffffffff ? 'FUTEX_BITSET_MATCH_ANY' : X.hex(c.uint(5)));
  switch (cmd) {
    case 0: return { args: [...args, val, timeout()] }; // WAIT
    case 1: case 2: return { args: [...args, val] }; // WAKE, FD
    case 3: return { args: [...args, val, uint(c, 3), c.ptr(4)] }; // REQUEUE
    case 4: case 12: return { args: [...args, val, uint(c, 3), c.ptr(4), uint(c, 5)] }; // CMP_REQUEUE(_PI)
    case 5: return { args: [...args, val, uint(c, 3), c.ptr(4), X.hex(c.uint(5))] }; // WAKE_OP
    case 6: case 13: return { args: [...args, timeout()] }; // LOCK_PI(2)
    case 7: case 8: return { args }; // UNLOCK_PI, TRYLOCK_PI
    case 9: return { args: [...args, val, timeout(), bitset()] }; // WAIT_BITSET
    case 10: return { args: [...args, val, bitset()] }; // WAKE_BITSET
    case 11: return { args: [...args, val, timeout(), c.ptr(4)] }; // WAIT_REQUEUE_PI
    default: return { args: [...args, X.hex(c.a(2)), X.hex(c.a(3)), X.hex(c.a(4)), X.hex(c.a(5))] };
  }
}

function cloneFlags(f: bigint): string {
  const sig = Number(f & 0xffn);
  const rest = f & ~0xffn;
  const parts: string[] = [];
  if (rest) parts.push(X.flags(rest, X.CLONE_FLAGS));
  if (sig) parts.push(signalArg(sig));
  return parts.length ? parts.join('|') : '0';
}

function clone(c: Call): Decoded {
  // x86-64: clone(flags, stack, parent_tid, child_tid, tls)
  const f = c.a(0);
  const args = [`child_stack=${c.ptr(1)}`, `flags=${cloneFlags(f)}`];
  if (f & 0x100000n) args.push(`parent_tid=${struct(c, 2, 'out', 4, (v) => `[${i32(v, 0)}]`)}`);
  if (f & 0x1000n) args.push(`pidfd=${struct(c, 2, 'out', 4, (v) => `[${i32(v, 0)}]`)}`);
  if (f & 0x1200000n) args.push(`child_tidptr=${c.ptr(3)}`);
  if (f & 0x80000n) args.push(`tls=${c.ptr(4)}`);
  return { args };
}

function clone3(c: Call): Decoded {
  const size = c.a(1);
  const a = struct(c, 0, 'in', 64, (v) => {
    const f = u64(v, 0);
    const p = (o: number): string => (u64(v, o) === 0n ? 'NULL' : X.hex(u64(v, o)));
    const parts = [`flags=${X.flags(f, X.CLONE_FLAGS)}`];
    if (f & 0x1000n) parts.push(`pidfd=${p(8)}`);
    if (f & 0x1200000n) parts.push(`child_tid=${p(16)}`);
    if (f & 0x100000n) parts.push(`parent_tid=${p(24)}`);
    parts.push(`exit_signal=${signalArg(Number(u64(v, 32)))}`, `stack=${p(40)}`, `stack_size=${X.hex(u64(v, 48))}`);
    if (f & 0x80000n) parts.push(`tls=${p(56)}`);
    if (v.byteLength >= 80 && u64(v, 72) !== 0n) parts.push(`set_tid=${p(64)}`, `set_tid_size=${u64(v, 72)}`);
    if (v.byteLength >= 88 && f & 0x200000000n) parts.push(`cgroup=${u64(v, 80)}`);
    const tid = c.cap(0, 'out');
    const written = f & 0x100000n && tid && tid.bytes.length >= 4 ? ` => {parent_tid=[${tid.bytes.readInt32LE(0)}]}` : '';
    return `{${parts.join(', ')}}${written}`;
  });
  return { args: [a, size.toString()] };
}

function arch_prctl(c: Call): Decoded {
  const code = c.int(0);
  const name = X.xval(code, X.ARCH_PRCTL, 'ARCH_???');
  if (code === 0x1003 || code === 0x1004) return { args: [name, struct(c, 1, 'out', 8, (v) => `[${X.hex(u64(v, 0))}]`)] };
  return { args: [name, X.hex(c.a(1))] };
}

const at = (i: number): ((c: Call) => string) => (c) => dirfd(c, i);
const P = (i: number): ((c: Call) => string) => (c) => path(c, i);

/** A decoder from one function per argument. */
function plain(...fs: ((c: Call) => string)[]): Decoder {
  return (c) => ({ args: fs.map((f) => f(c)) });
}
const I = (i: number) => (c: Call) => int(c, i);
const U = (i: number) => (c: Call) => uint(c, i);
const UL = (i: number) => (c: Call) => ulong(c, i);
const L = (i: number) => (c: Call) => long(c, i);
const PTR = (i: number) => (c: Call) => c.ptr(i);
const M = (i: number) => (c: Call) => mode(c, i);
const FL = (i: number, table: X.Xlat, dflt: string) => (c: Call) => X.flags(c.a(i), table, dflt);
const XV = (i: number, table: X.Xlat, dflt: string) => (c: Call) => X.xval(c.int(i), table, dflt);
const SIG = (i: number) => (c: Call) => signalArg(c.int(i));

const timeIn = (i: number) => (c: Call) => struct(c, i, 'in', 16, (v) => timespec(v));
const timeOut = (i: number) => (c: Call) => struct(c, i, 'out', 16, (v) => timespec(v));
/** nanosleep's rem: shown when the sleep was interrupted, else its address */
const remaining = (i: number) => (c: Call) =>
  (c.errno === 4 || c.errno === 514 || c.errno === 516) && c.cap(i, 'out') ? struct(c, i, 'out', 16, (v) => timespec(v)) : c.ptr(i);

export const DECODERS: Readonly<Record<string, Decoder>> = {
  read: plain(I(0), (c) => bufOut(c, 1), UL(2)),
  write: plain(I(0), (c) => bufIn(c, 1), UL(2)),
  pread64: plain(I(0), (c) => bufOut(c, 1), UL(2), L(3)),
  pwrite64: plain(I(0), (c) => bufIn(c, 1), UL(2), L(3)),
  open: (c) => ({ args: [path(c, 0), ...openMode(c, 1)] }),
  openat: (c) => ({ args: [dirfd(c, 0), path(c, 1), ...openMode(c, 2)] }),
  creat: plain(P(0), M(1)),
  close: plain(I(0)),
  stat: plain(P(0), (c) => struct(c, 1, 'out', 64, stat)),
  lstat: plain(P(0), (c) => struct(c, 1, 'out', 64, stat)),
  fstat: plain(I(0), (c) => struct(c, 1, 'out', 64, stat)),
  newfstatat: plain(at(0), P(1), (c) => struct(c, 2, 'out', 64, stat), (c) => statFlagsAt(c, 3)),
  statx: plain(at(0), P(1), (c) => statxFlags(c.uint(2)), FL(3, X.STATX_MASK, 'STATX_???'), (c) => struct(c, 4, 'out', 48, statx)),
  statfs: plain(P(0), (c) => struct(c, 1, 'out', 88, statfs)),
  fstatfs: plain(I(0), (c) => struct(c, 1, 'out', 88, statfs)),
  poll: (c) => {
    const n = c.uint(1);
    const args = [struct(c, 0, 'in', 0, (v) => pollfds(v, n, false, c.opts.strsize)), String(n), int(c, 2)];
    if (c.failed) return { args };
    if (c.ret === 0n) return { args, ret: '0 (Timeout)' };
    const out = c.cap(0, 'out');
    if (!out) return { args };
    const v = new DataView(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
    return { args, ret: `${c.ret} (${pollfds(v, n, true, c.opts.strsize)})` };
  },
  lseek: plain(I(0), L(1), XV(2, X.SEEK, 'SEEK_???')),
  mmap: (c) => ({ args: [c.ptr(0), ulong(c, 1), prot(c, 2), X.mmapFlags(c.a(3)), int(c, 4), X.hex(c.a(5))], retFormat: 'hex' }),
  mprotect: plain(PTR(0), UL(1), (c) => prot(c, 2)),
  pkey_mprotect: plain(PTR(0), UL(1), (c) => prot(c, 2), I(3)),
  munmap: plain(PTR(0), UL(1)),
  brk: (c) => ({ args: [c.ptr(0)], retFormat: 'hex' }),
  mremap: (c) => {
    const args = [c.ptr(0), ulong(c, 1), ulong(c, 2), X.flags(c.a(3), X.MREMAP_FLAGS, 'MREMAP_???')];
    if (c.a(3) & 2n) args.push(c.ptr(4));
    return { args, retFormat: 'hex' };
  },
  madvise: plain(PTR(0), UL(1), XV(2, X.MADVISE, 'MADV_???')),
  msync: plain(PTR(0), UL(1), FL(2, [[1, 'MS_ASYNC'], [2, 'MS_INVALIDATE'], [4, 'MS_SYNC']], 'MS_???')),
  mlock: plain(PTR(0), UL(1)),
  munlock: plain(PTR(0), UL(1)),
  rt_sigaction: plain(SIG(0), (c) => struct(c, 1, 'in', 32, sigaction), (c) => struct(c, 2, 'out', 32, sigaction), UL(3)),
  rt_sigprocmask: plain(XV(0, X.SIGPROCMASK_HOW, 'SIG_???'), (c) => sigsetArg(c, 1, 'in'), (c) => sigsetArg(c, 2, 'out'), UL(3)),
  ioctl,
  access: plain(P(0), (c) => X.accessMode(c.a(1))),
  faccessat: plain(at(0), P(1), (c) => X.accessMode(c.a(2))),
  faccessat2: plain(at(0), P(1), (c) => X.accessMode(c.a(2)), FL(3, X.FACCESSAT_FLAGS, 'AT_???')),
  pipe: plain((c) => intPair(c, 0)),
  pipe2: plain((c) => intPair(c, 0), FL(1, X.PIPE_FLAGS, 'O_???')),
  dup: plain(I(0)),
  dup2: plain(I(0), I(1)),
  dup3: plain(I(0), I(1), FL(2, [[0o2000000, 'O_CLOEXEC']], 'O_???')),
  nanosleep: plain(timeIn(0), remaining(1)),
  clock_nanosleep: plain(XV(0, X.CLOCKS, 'CLOCK_???'), FL(1, X.TIMER_FLAGS, 'TIMER_???'), timeIn(2), remaining(3)),
  clock_gettime: plain(XV(0, X.CLOCKS, 'CLOCK_???'), timeOut(1)),
  clock_getres: plain(XV(0, X.CLOCKS, 'CLOCK_???'), timeOut(1)),
  gettimeofday: plain((c) => struct(c, 0, 'out', 16, (v) => timeval(v)), PTR(1)),
  socket: (c) => ({ args: [X.xval(c.int(0), X.ADDRESS_FAMILIES, 'AF_???'), X.sockType(c.uint(1)), socketProtocol(c.int(0), c.int(2))] }),
  socketpair: (c) => ({ args: [X.xval(c.int(0), X.ADDRESS_FAMILIES, 'AF_???'), X.sockType(c.uint(1)), socketProtocol(c.int(0), c.int(2)), intPair(c, 3)] }),
  connect: plain(I(0), (c) => sockaddrIn(c, 1, 2), I(2)),
  bind: plain(I(0), (c) => sockaddrIn(c, 1, 2), I(2)),
  listen: plain(I(0), I(1)),
  accept: (c) => ({ args: [int(c, 0), ...sockaddrOut(c, 1, 2)] }),
  accept4: (c) => ({ args: [int(c, 0), ...sockaddrOut(c, 1, 2), X.flags(c.uint(3), X.SOCK_TYPE_FLAGS, 'SOCK_???')] }),
  getsockname: (c) => ({ args: [int(c, 0), ...sockaddrOut(c, 1, 2)] }),
  getpeername: (c) => ({ args: [int(c, 0), ...sockaddrOut(c, 1, 2)] }),
  sendto: plain(I(0), (c) => bufIn(c, 1), UL(2), (c) => msgFlags(c, 3), (c) => sockaddrIn(c, 4, 5), I(5)),
  recvfrom: (c) => ({ args: [int(c, 0), bufOut(c, 1), ulong(c, 2), msgFlags(c, 3), ...sockaddrOut(c, 4, 5)] }),
  sendmsg: plain(I(0), PTR(1), (c) => msgFlags(c, 2)),
  recvmsg: plain(I(0), PTR(1), (c) => msgFlags(c, 2)),
  shutdown: plain(I(0), XV(1, X.SHUTDOWN_MODES, 'SHUT_???')),
  setsockopt: (c) => {
    const level = c.int(1);
    const len = c.int(4);
    const val = len === 4 ? struct(c, 3, 'in', 4, (v) => `[${i32(v, 0)}]`) : bufIn(c, 3);
    return { args: [int(c, 0), X.xval(level, X.SOCKOPT_LEVELS, 'SOL_???', true), sockoptName(level, c.int(2)), val, String(len)] };
  },
  getsockopt: (c) => {
    const level = c.int(1);
    const lenIn = c.cap(4, 'in');
    const lenOut = c.cap(4, 'out');
    const rd = (d: Captured | undefined) => (d && d.bytes.length >= 4 ? new DataView(d.bytes.buffer, d.bytes.byteOffset, 4).getInt32(0, true) : undefined);
    const lin = rd(lenIn);
    const lout = rd(lenOut);
    const val = lout === 4 ? struct(c, 3, 'out', 4, (v) => `[${i32(v, 0)}]`) : c.ptr(3);
    let lenText = c.ptr(4);
    if (lin !== undefined) lenText = lout !== undefined && lout !== lin ? `[${lin} => ${lout}]` : `[${lin}]`;
    return { args: [int(c, 0), X.xval(level, X.SOCKOPT_LEVELS, 'SOL_???', true), sockoptName(level, c.int(2)), val, lenText] };
  },
  clone,
  clone3,
  execve: plain(P(0), (c) => argv(c, 1), (c) => envp(c, 2)),
  execveat: plain(at(0), P(1), (c) => argv(c, 2), (c) => envp(c, 3), FL(4, X.AT_FLAGS, 'AT_???')),
  exit: (c) => ({ args: [int(c, 0)], noReturn: true }),
  exit_group: (c) => ({ args: [int(c, 0)], noReturn: true }),
  wait4: plain(I(0), (c) => struct(c, 1, 'out', 4, (v) => waitStatus(i32(v, 0))), FL(2, X.WAIT4_OPTIONS, 'W???'),
    (c) => struct(c, 3, 'out', 32, rusage)),
  kill: plain(I(0), SIG(1)),
  tkill: plain(I(0), SIG(1)),
  tgkill: plain(I(0), I(1), SIG(2)),
  uname: plain((c) => struct(c, 0, 'out', 390, (v) => `{sysname=${cstr(v, 0, 65)}, nodename=${cstr(v, 65, 65)}, ...}`)),
  fcntl,
  flock: (c) => {
    const op = c.int(1);
    const base = X.xval(op & ~4, X.LOCK_OPS, 'LOCK_???');
    return { args: [int(c, 0), op & 4 ? `${base}|LOCK_NB` : base] };
  },
  fsync: plain(I(0)),
  fdatasync: plain(I(0)),
  syncfs: plain(I(0)),
  fchdir: plain(I(0)),
  truncate: plain(P(0), L(1)),
  ftruncate: plain(I(0), L(1)),
  getdents: (c) => getdents(c),
  getdents64: (c) => getdents(c),
  getcwd: plain((c) => {
    if (c.failed) return c.ptr(0);
    const d = c.cap(0, 'out');
    return d ? quoteBytes(d.bytes) + (d.truncated ? '...' : '') : c.ptr(0);
  }, UL(1)),
  chdir: plain(P(0)),
  chroot: plain(P(0)),
  rmdir: plain(P(0)),
  unlink: plain(P(0)),
  acct: plain(P(0)),
  rename: plain(P(0), P(1)),
  link: plain(P(0), P(1)),
  symlink: plain(P(0), P(1)),
  mkdir: plain(P(0), M(1)),
  chmod: plain(P(0), M(1)),
  fchmod: plain(I(0), M(1)),
  mkdirat: plain(at(0), P(1), M(2)),
  fchmodat: plain(at(0), P(1), M(2)),
  fchmodat2: plain(at(0), P(1), M(2), FL(3, X.AT_FLAGS, 'AT_???')),
  mknod: (c) => ({ args: [path(c, 0), X.symbolicMode(c.uint(1)), ...(c.uint(1) & 0o60000 && (c.uint(1) & X.S_IFMT) !== 0o10000 && (c.uint(1) & X.S_IFMT) !== 0o140000 ? [makedev(c.a(2))] : [])] }),
  unlinkat: plain(at(0), P(1), FL(2, X.AT_FLAGS, 'AT_???')),
  renameat: plain(at(0), P(1), at(2), P(3)),
  renameat2: plain(at(0), P(1), at(2), P(3), FL(4, X.RENAME_FLAGS, 'RENAME_???')),
  linkat: plain(at(0), P(1), at(2), P(3), FL(4, X.AT_FLAGS, 'AT_???')),
  symlinkat: plain(P(0), at(1), P(2)),
  readlink: plain(P(0), (c) => bufOut(c, 1), UL(2)),
  readlinkat: plain(at(0), P(1), (c) => bufOut(c, 2), UL(3)),
  chown: plain(P(0), I(1), I(2)),
  lchown: plain(P(0), I(1), I(2)),
  fchown: plain(I(0), I(1), I(2)),
  fchownat: plain(at(0), P(1), I(2), I(3), FL(4, X.AT_FLAGS, 'AT_???')),
  umask: (c) => ({ args: [X.octal(c.uint(0) & 0o7777, 3)], retFormat: 'octal' }),
  getrlimit: plain(XV(0, X.RLIMITS, 'RLIMIT_???'), (c) => struct(c, 1, 'out', 16, rlimit)),
  setrlimit: plain(XV(0, X.RLIMITS, 'RLIMIT_???'), (c) => struct(c, 1, 'in', 16, rlimit)),
  prlimit64: plain(I(0), XV(1, X.RLIMITS, 'RLIMIT_???'), (c) => struct(c, 2, 'in', 16, rlimit), (c) => struct(c, 3, 'out', 16, rlimit)),
  getrusage: plain(XV(0, X.RUSAGE_WHO, 'RUSAGE_???'), (c) => struct(c, 1, 'out', 32, rusage)),
  arch_prctl,
  set_tid_address: plain(PTR(0)),
  set_robust_list: plain(PTR(0), UL(1)),
  rseq: plain(PTR(0), (c) => X.hex(c.uint(1)), (c) => X.flags(c.uint(2), [[1, 'RSEQ_FLAG_UNREGISTER']], 'RSEQ_FLAG_???'), (c) => X.hex(c.uint(3))),
  getrandom: plain((c) => bufOut(c, 0, true), UL(1), FL(2, X.GRND_FLAGS, 'GRND_???')),
  memfd_create: plain((c) => str(c, 0), (c) => X.flags(c.uint(1) & 0x3ffffff, X.MFD_FLAGS, 'MFD_???')),
  futex,
  sched_getaffinity: plain(I(0), U(1), (c) => {
    if (c.failed) return c.ptr(2);
    const d = c.cap(2, 'out');
    return d ? cpuMask(d.bytes) : c.ptr(2);
  }),
  sched_setaffinity: plain(I(0), U(1), PTR(2)),
  fadvise64: plain(I(0), L(1), L(2), XV(3, X.FADVISE, 'POSIX_FADV_???')),
  fallocate: plain(I(0), FL(1, X.FALLOC_FLAGS, 'FALLOC_FL_???'), L(2), L(3)),
  eventfd2: plain(U(0), FL(1, X.EFD_FLAGS, 'EFD_???')),
  eventfd: plain(U(0)),
  epoll_create: plain(I(0)),
  epoll_create1: plain(FL(0, X.EPOLL_CREATE_FLAGS, 'EPOLL_???')),
  epoll_ctl: plain(I(0), XV(1, X.EPOLL_CTL_OPS, 'EPOLL_CTL_???'), I(2), (c) => struct(c, 3, 'in', 12, (v) => epollEvent(v, 0))),
  epoll_wait: plain(I(0), (c) => epollEvents(c, 1), I(2), I(3)),
  epoll_pwait: plain(I(0), (c) => epollEvents(c, 1), I(2), I(3), (c) => sigsetArg(c, 4, 'in', 5), UL(5)),
  inotify_init1: plain(FL(0, X.INOTIFY_INIT_FLAGS, 'IN_???')),
  inotify_add_watch: plain(I(0), P(1), (c) => X.hex(c.uint(2))),
  inotify_rm_watch: plain(I(0), I(1)),
  timerfd_create: plain(XV(0, X.CLOCKS, 'CLOCK_???'), FL(1, X.TFD_FLAGS, 'TFD_???')),
  close_range: plain(U(0), U(1), FL(2, X.CLOSE_RANGE_FLAGS, 'CLOSE_RANGE_???')),
  alarm: plain(U(0)),
  setpgid: plain(I(0), I(1)),
  getpgid: plain(I(0)),
  getsid: plain(I(0)),
  setuid: plain(U(0)),
  setgid: plain(U(0)),
  setfsuid: plain(U(0)),
  setfsgid: plain(U(0)),
  setreuid: plain(I(0), I(1)),
  setregid: plain(I(0), I(1)),
  setresuid: plain(I(0), I(1), I(2)),
  setresgid: plain(I(0), I(1), I(2)),
  getpriority: plain(XV(0, X.PRIO_WHICH, 'PRIO_???'), I(1)),
  setpriority: plain(XV(0, X.PRIO_WHICH, 'PRIO_???'), I(1), I(2)),
  getitimer: plain(XV(0, X.ITIMERS, 'ITIMER_???'), PTR(1)),
  setitimer: plain(XV(0, X.ITIMERS, 'ITIMER_???'), PTR(1), PTR(2)),
  sendfile: plain(I(0), I(1), PTR(2), UL(3)),
  writev: plain(I(0), (c) => iovec(c, 1, 2, 'in'), I(2)),
  readv: plain(I(0), (c) => iovec(c, 1, 2, c.failed ? 'none' : 'out'), I(2)),
  pwritev: plain(I(0), (c) => iovec(c, 1, 2, 'in'), I(2), L(3)),
  preadv: plain(I(0), (c) => iovec(c, 1, 2, c.failed ? 'none' : 'out'), I(2), L(3)),
  pwritev2: plain(I(0), (c) => iovec(c, 1, 2, 'in'), I(2), L(3), FL(5, X.RWF_FLAGS, 'RWF_???')),
  preadv2: plain(I(0), (c) => iovec(c, 1, 2, c.failed ? 'none' : 'out'), I(2), L(3), FL(5, X.RWF_FLAGS, 'RWF_???')),
  sigaltstack: plain((c) => struct(c, 0, 'in', 24, stack), (c) => struct(c, 1, 'out', 24, stack)),
  sysinfo: plain((c) => struct(c, 0, 'out', 108, sysinfo)),
  prctl,
  time: plain((c) => struct(c, 0, 'out', 8, (v) => `[${i64(v, 0)}]`)),
  utimensat: plain(at(0), P(1), PTR(2), FL(3, X.AT_FLAGS, 'AT_???')),
  getxattr: plain(P(0), (c) => str(c, 1), (c) => bufOut(c, 2), UL(3)),
  lgetxattr: plain(P(0), (c) => str(c, 1), (c) => bufOut(c, 2), UL(3)),
  fgetxattr: plain(I(0), (c) => str(c, 1), (c) => bufOut(c, 2), UL(3)),
};

function getdents(c: Call): Decoded {
  const args = [int(c, 0)];
  const d = c.cap(1, 'out');
  let n: number | undefined;
  if (!c.failed && c.ret === 0n) n = 0;
  else if (d && !d.truncated && BigInt(d.bytes.length) === c.ret) n = dirents(d.bytes);
  args.push(n === undefined || c.failed ? c.ptr(1) : `${c.ptr(1)} /* ${n} entries */`);
  args.push(uint(c, 2));
  return { args };
}
