// Policies, the control plane's half (docs/policies.md): the policy file the C core reads
// at start-up (TRAPLINE_POLICY, core/policy.c), the trace segment it records calls into
// (core/trace_layout.h, whose offsets ts/src/trace-layout.ts holds), and the reader that
// turns the segment's records into TraceEvents while the program runs.
//
// Node cannot map a file, so the reader reads the segment with pread at offsets and gives
// a ring's room back by writing its tail with pwrite; it polls (every millisecond while
// records come, backing off to 10 ms when idle) and drains everything once the program
// has exited. A thread whose ring is full waits for it (lossless, the default): a full
// ring costs the program time, never a record, as long as the reader lives.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionError } from './errors.js';
import type { OptionNames } from './names.js';
import { TRACE_LAYOUT as L } from './trace-layout.js';
import type { Rule, TraceEvent, TraceOptions } from './policy/types.js';
import { SYSCALL_NAMES } from './syscalls.js';
import { I386_SYSCALL_NAMES } from './syscalls_i386.js';

const H = L.header;
const R = L.ring;
const C = L.rec;
const D = L.data;
const M = L.module;

/** Where a segment of this shape lays its parts out (core/trace_check.c, tl_trace_geom). */
export interface TraceGeometry { ring: number; data: number; module: number; size: number }

const up = (n: number, a: number) => Math.ceil(n / a) * a;

/** The geometry of a segment with rings rings of ringSize bytes and modules module records;
 *  undefined if the shape is out of bounds (as the C side refuses it). */
export function traceGeometry(rings: number, ringSize: number, modules: number): TraceGeometry | undefined {
  const c = L.const;
  if (!Number.isInteger(rings) || rings < 1 || rings > c.rings_max) return undefined;
  if (!Number.isInteger(ringSize) || ringSize < c.ring_min || ringSize > c.ring_max || (ringSize & (ringSize - 1)) !== 0) return undefined;
  if (!Number.isInteger(modules) || modules < 1 || modules > c.modules_max) return undefined;
  const ring = up(L.size.header, 64);
  const data = up(ring + rings * L.size.ring, 4096);
  const module = data + rings * ringSize;
  const size = up(module + modules * L.size.module, 4096);
  return { ring, data, module, size };
}

/** An upper bound of the largest record the C side writes with this strsize (it checks
 *  that a ring holds 2 of its exact largest): at most two path items, and two items of
 *  strsize bytes or of an argv, iovec array or dirents (core/trace_caps.c). */
export function recordBound(strsize: number): number {
  const c = L.const;
  return L.size.rec + 2 * (L.size.data + c.path_max) + 2 * (L.size.data + up(Math.max(strsize, c.big_max), c.align));
}

/** The ring size for strsize: 1 MiB (8192 records of a one-byte read: a few ms of a tight
 *  loop's calls, so that a reader that sleeps 1 ms between polls does not hold it back), or
 *  the power of two that holds 2 of the largest records. */
export function ringSizeFor(strsize: number): number {
  let size = 1 << 20;
  while (size < 2 * recordBound(strsize)) size *= 2;
  return size;
}

/** The shape of the segment a run gets. */
export const DEFAULT_RINGS = 256;
export const DEFAULT_MODULES = 4096;

/** percent-encodes the bytes a policy file value cannot hold as they are */
function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b <= 0x20 || b >= 0x7f || b === 0x25 ? `%${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** N,N-M,... of sorted unique numbers */
function ranges(nrs: readonly number[]): string {
  const v = [...new Set(nrs)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < v.length;) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === (v[j] as number) + 1) j++;
    out.push(i === j ? String(v[i]) : `${v[i]}-${v[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** i386 names whose x86-64 counterpart has another name (the 32-bit variants) */
const I386_ALIASES: Readonly<Record<string, string>> = {
  fstatat64: 'newfstatat', mmap2: 'mmap', _llseek: 'lseek', ugetrlimit: 'getrlimit', _newselect: 'select',
  fadvise64_64: 'fadvise64', oldfstat: 'fstat', oldstat: 'stat', oldlstat: 'lstat', oldolduname: 'uname', olduname: 'uname',
  vm86old: '', sigaction: '', signal: '', sigprocmask: '', sigpending: '', sigsuspend: '', sigreturn: '',
};
const X64_BY_NAME = new Map(Object.entries(SYSCALL_NAMES).map(([nr, name]) => [name, Number(nr)]));
const X64_COUNT = Object.keys(SYSCALL_NAMES).length;

/** The x86-64 number an i386 call counts as for the rules (docs/policies.md, "i386 calls"):
 *  the call of the same name, or of its name without the 32-bit variant's suffix (stat64:
 *  stat, getuid32: getuid) or its alias (mmap2: mmap); undefined if none. */
export function i386Counterpart(name: string): number | undefined {
  const alias = I386_ALIASES[name];
  if (alias !== undefined) return alias ? X64_BY_NAME.get(alias) : undefined;
  const same = X64_BY_NAME.get(name);
  if (same !== undefined) return same;
  const m = /^(.+?)(32|64)$/.exec(name);
  return m ? X64_BY_NAME.get(m[1] as string) : undefined;
}

/** The i386 numbers a rule selecting the x86-64 numbers nrs selects: every one if nrs is
 *  every x86-64 call (all, !none), else those whose counterpart nrs holds. */
export function i386Numbers(nrs: readonly number[]): number[] {
  const all = new Set(nrs).size >= X64_COUNT;
  const sel = new Set(nrs);
  const out: number[] = [];
  for (const [nr, name] of Object.entries(I386_SYSCALL_NAMES)) {
    if (Number(nr) >= 512) continue;
    const c = i386Counterpart(name);
    if (all || (c !== undefined && sel.has(c))) out.push(Number(nr));
  }
  return out.sort((a, b) => a - b);
}

/** The most a delay may be (core/policy.c): an hour. */
export const MAX_DELAY_US = 3600 * 1e6;

/** One rule as the policy file says it (core/policy.c's grammar). */
export function ruleLine(r: Rule): string {
  const parts = [`rule ${r.action}`, `nrs=${ranges(r.nrs)}`];
  const nrs32 = i386Numbers(r.nrs);
  if (nrs32.length) parts.push(`nrs32=${ranges(nrs32)}`);
  const s = r.scope;
  if (s.module !== undefined) {
    if (s.module.startsWith('build-id:')) parts.push(`buildid=${s.module.slice(9).toLowerCase()}`);
    else parts.push(`module=${pct(s.module)}`);
  }
  if (s.origin !== undefined) parts.push(`origin=${s.origin}`);
  if (s.pid !== undefined) parts.push(`pid=${s.pid}`);
  if (s.tid !== undefined) parts.push(`tid=${s.tid}`);
  if (r.action === 'deny' && r.kill) parts.push('kill=1');
  else if (r.error !== undefined && r.action !== 'trace') parts.push(`error=${r.error}`);
  if (r.action === 'inject') {
    if (r.retval !== undefined) parts.push(`retval=${BigInt.asIntN(64, r.retval)}`);
    if (r.signal !== undefined) parts.push(`signal=${r.signal}`);
    if (r.delayEnterUs !== undefined) parts.push(`delay_enter=${r.delayEnterUs}`);
    if (r.delayExitUs !== undefined) parts.push(`delay_exit=${r.delayExitUs}`);
  }
  if (r.action !== 'trace' && r.when !== undefined) {
    const w = r.when;
    parts.push(`when=${w.first},${w.last ?? 0},${w.step ?? 1}`);
  }
  return parts.join(' ');
}

/** The policy file: the rules (at most 64; rules selecting nothing are left out) and, when
 *  calls are traced, the capture settings and the segment. */
export function policyText(rules: readonly Rule[], trace?: { strsize: number; lossy: boolean; path: string; cookie: bigint }): string {
  const lines = ['trapline-policy 1'];
  if (trace) {
    lines.push(`strsize ${Math.min(trace.strsize, L.const.strsize_max)}`, `lossy ${trace.lossy ? 1 : 0}`);
    lines.push(`ring ${pct(trace.path)} ${trace.cookie.toString(16)}`);
  }
  for (const r of rules) if (r.nrs.length && (r.action !== 'trace' || trace)) lines.push(ruleLine(r));
  return lines.join('\n') + '\n';
}

/** The number of rules the C core takes at most. */
export const MAX_RULES = 64;

/** Creates the trace segment file (mode 0600, sparse: each process allocates what it
 *  writes) for a reader running as readerPid. Returns its cookie. */
export function createSegment(path: string, shape: { rings: number; ringSize: number; modules: number }, readerPid = process.pid): bigint {
  const g = traceGeometry(shape.rings, shape.ringSize, shape.modules);
  if (!g) throw new RangeError(`trace segment shape out of bounds: ${JSON.stringify(shape)}`);
  let cookie = 0n;
  while (cookie === 0n) cookie = randomBytes(8).readBigUInt64LE(0);
  const h = Buffer.alloc(L.size.header);
  h.write('TLTRACE\0', H.magic, 'latin1');
  h.writeUInt32LE(L.const.version, H.version);
  h.writeUInt32LE(L.size.header, H.header_size);
  h.writeBigUInt64LE(BigInt(g.size), H.total_size);
  h.writeBigUInt64LE(cookie, H.cookie);
  h.writeUInt32LE(shape.rings, H.ring_count);
  h.writeUInt32LE(shape.ringSize, H.ring_size);
  h.writeBigUInt64LE(BigInt(g.ring), H.ring_off);
  h.writeBigUInt64LE(BigInt(g.data), H.data_off);
  h.writeBigUInt64LE(BigInt(g.module), H.module_off);
  h.writeUInt32LE(shape.modules, H.module_cap);
  h.writeUInt32LE(readerPid, H.reader_pid);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    ftruncateSync(fd, g.size);
    writeSync(fd, h, 0, h.length, 0);
  } finally {
    closeSync(fd);
  }
  return cookie;
}

/** Writes the policy file (mode 0600). */
export function writePolicyFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
}

/** Receives one record: the bytes buf[off, off + size) (a struct tl_trace_rec and its
 *  items); pendingExec: an execve record no new program committed (it succeeded). */
export type RecordVisitor = (buf: Buffer, off: number, size: number, pendingExec: boolean) => void;

interface RingView { index: number; state: number; pid: number; tid: number; pending: number; head: bigint; tail: bigint }

/** Bytes of the reader's reused buffers kept between polls (four rings' worth). */
const SCRATCH_KEPT = 4 << 20;

/** What the reader knows of the run's records besides the events. */
export interface TraceCounts {
  /** records dropped: lossy mode, a thread without a ring, or a reader that was gone */
  dropped: number;
  /** times a thread found its ring full and waited for the reader (lossless) */
  waits: number;
  /** the time threads waited in all, ns */
  waitNs: bigint;
}

/**
 * Reads a trace segment while its program runs. poll() returns the records committed since
 * the last poll as TraceEvents (in order per thread; threads merged by entry time) and
 * gives their room back; finish() drains the rest once the program has exited and tells
 * the run's processes that nobody reads any more (they drop from then on).
 */
export class TraceReader {
  private fd: number;
  private geom: TraceGeometry;
  private ringSize: number;
  private ringCount: number;
  private moduleCap: number;
  private modules = new Map<number, string>();
  private heartbeat = 0n;
  private closed = false;
  private closedSeen = new Set<number>();
  private scratch: Buffer[] = [];
  private scratchBytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
    const h = Buffer.alloc(L.size.header);
    readSync(this.fd, h, 0, h.length, 0);
    this.ringCount = h.readUInt32LE(H.ring_count);
    this.ringSize = h.readUInt32LE(H.ring_size);
    this.moduleCap = h.readUInt32LE(H.module_cap);
    const g = traceGeometry(this.ringCount, this.ringSize, this.moduleCap);
    if (!g || h.toString('latin1', 0, 8) !== 'TLTRACE\0') throw new RangeError(`${path}: not a trapline trace segment`);
    this.geom = g;
  }

  private read(buf: Buffer, len: number, pos: number): void {
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, pos + got);
      if (n <= 0) throw new RangeError('trace segment: short read');
      got += n;
    }
  }

  private write64(value: bigint, pos: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value, 0);
    writeSync(this.fd, b, 0, 8, pos);
  }

  private write32(value: number, pos: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value, 0);
    writeSync(this.fd, b, 0, 4, pos);
  }

  private header(): Buffer {
    const h = Buffer.alloc(L.size.header);
    this.read(h, h.length, 0);
    return h;
  }

  /** Counts of drops and waits so far. */
  counts(): TraceCounts {
    const h = this.header();
    return { dropped: Number(h.readBigUInt64LE(H.dropped)), waits: Number(h.readBigUInt64LE(H.waits)), waitNs: h.readBigUInt64LE(H.wait_ns) };
  }

  /** The control blocks of the rings in use. A pread copies in no guaranteed order or
   *  width: a head is believed when its two copies agree (the ring's control block is read
   *  again a few times if not; else the ring waits for the next poll). */
  private rings(used: number): RingView[] {
    const n = Math.min(used, this.ringCount);
    if (n === 0) return [];
    const b = Buffer.alloc(n * L.size.ring);
    this.read(b, b.length, this.geom.ring);
    const out: RingView[] = [];
    for (let i = 0; i < n; i++) {
      let c = b.subarray(i * L.size.ring, (i + 1) * L.size.ring);
      for (let again = 0; c.readBigUInt64LE(R.head) !== c.readBigUInt64LE(R.head_again) && again < 4; again++) {
        c = Buffer.alloc(L.size.ring);
        this.read(c, c.length, this.geom.ring + i * L.size.ring);
      }
      if (c.readBigUInt64LE(R.head) !== c.readBigUInt64LE(R.head_again)) continue;
      out.push({
        index: i, state: c.readUInt32LE(R.state), pid: c.readUInt32LE(R.pid), tid: c.readUInt32LE(R.tid),
        pending: c.readUInt32LE(R.pending), head: c.readBigUInt64LE(R.head), tail: c.readBigUInt64LE(R.tail),
      });
    }
    return out;
  }

  /** tail and its second copy, in one write */
  private writeTail(index: number, tail: bigint): void {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(tail, 0);
    b.writeBigUInt64LE(tail, 8);
    writeSync(this.fd, b, 0, 16, this.geom.ring + index * L.size.ring + R.tail);
  }

  private moduleName(i: number): string | null {
    if (i === L.const.no_module || i >= this.moduleCap) return null;
    const known = this.modules.get(i);
    if (known !== undefined) return known;
    const b = Buffer.alloc(L.size.module);
    this.read(b, b.length, this.geom.module + i * L.size.module);
    if (b.readUInt32LE(M.ready) !== 1) return null;
    const raw = b.subarray(M.path, M.path + L.size.path);
    const end = raw.indexOf(0);
    const path = raw.toString('utf8', 0, end < 0 ? raw.length : end);
    this.modules.set(i, path);
    return path;
  }

  /** The event of the record at off in buf (size bytes). It keeps a view of buf. */
  event(buf: Buffer, off: number, size: number, pendingExec = false): TraceEvent {
    return new RecordEvent(buf, off, size, this.moduleName(buf.readUInt32LE(off + C.module)), pendingExec);
  }

  /** A buffer of at least n bytes for the k-th ring read in a poll, reused from poll to
   *  poll while they hold at most SCRATCH_KEPT bytes in all (many threads at once: the
   *  buffers of that poll are let go after it). */
  private scratchFor(k: number, n: number): Buffer {
    let b = this.scratch[k];
    if (!b || b.length < n) {
      b = Buffer.allocUnsafeSlow(Math.max(n, 64 << 10));
      this.scratchBytes += b.length - (this.scratch[k]?.length ?? 0);
      this.scratch[k] = b;
    }
    return b;
  }

  /** The records of ring r in [tail, head), copied into one buffer (fresh if retain, else
   *  scratch slot k): the buffer and the offsets of its call records. tail is moved to
   *  head before anything is decoded: the thread writes on while its records are read. */
  private drainRing(r: RingView, k: number, retain: boolean): { buf: Buffer; offs: number[] } | undefined {
    const size = this.ringSize;
    const total = Number(r.head - r.tail);
    const buf = retain ? Buffer.allocUnsafe(total) : this.scratchFor(k, total);
    const base = this.geom.data + r.index * size;
    // at most two pieces: records never straddle the ring's end
    const off = Number(r.tail % BigInt(size));
    const first = Math.min(total, size - off);
    this.read(buf, first, base + off);
    if (total > first) this.readInto(buf, first, total - first, base);
    this.writeTail(r.index, r.head);
    const offs: number[] = [];
    let p = 0;
    while (p + 8 <= total) {
      const recSize = buf.readUInt32LE(p + C.size);
      // a malformed record (a process of the run wrote over its ring): skip to head
      if (recSize < 8 || recSize % L.const.align !== 0 || p + recSize > total) break;
      if (buf.readUInt16LE(p + C.type) === L.type.call && recSize >= L.size.rec) offs.push(p);
      p += recSize;
    }
    return offs.length ? { buf, offs } : undefined;
  }

  private readInto(buf: Buffer, at: number, len: number, pos: number): void {
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, at + got, len - got, pos + got);
      if (n <= 0) throw new RangeError('trace segment: short read');
      got += n;
    }
  }

  /** An execve record left pending by a process whose new program never committed it
   *  (it was not interposed): the call succeeded. */
  private pendingExec(r: RingView): Buffer | undefined {
    const size = this.ringSize;
    const base = this.geom.data + r.index * size;
    let off = Number(r.head % BigInt(size));
    const hdr = Buffer.alloc(L.size.rec);
    this.read(hdr, hdr.length, base + off);
    if (hdr.readUInt16LE(C.type) === L.type.pad) {
      off = 0;
      this.read(hdr, hdr.length, base);
    }
    const recSize = hdr.readUInt32LE(C.size);
    if (hdr.readUInt16LE(C.type) !== L.type.call || recSize < L.size.rec || recSize > size - off) return undefined;
    const b = Buffer.alloc(recSize);
    this.read(b, recSize, base + off);
    return b;
  }

  /**
   * The records committed since the last poll, as events (in order per thread; threads
   * merged by entry time). final: the program has exited; every ring is read to its end
   * and the records of exec'd programs that were not interposed too.
   */
  poll(final = false): TraceEvent[] {
    const out: TraceEvent[] = [];
    this.pollRecords((buf, off, size, pend) => { out.push(this.event(buf, off, size, pend)); }, final, true);
    return out;
  }

  /**
   * The records committed since the last poll, each given to visit (in order per thread;
   * threads merged by entry time) as the bytes of the record at off in buf: valid during
   * the call only, unless retain (the buffers are then never reused). Returns their number.
   */
  pollRecords(visit: RecordVisitor, final = false, retain = false): number {
    if (this.closed) return 0;
    this.heartbeat++;
    this.write64(this.heartbeat, H.heartbeat);
    const h = this.header();
    const views = this.rings(h.readUInt32LE(H.rings_used));
    const lists: { buf: Buffer; offs: number[]; pend: Buffer | undefined }[] = [];
    let n = 0;
    for (const r of views) {
      // freed only when an earlier poll saw it closed and it has been read to its head since:
      // the close is then older than this poll's read of head
      if (r.state === L.state.closed && this.closedSeen.has(r.index) && r.head === r.tail && !final) {
        this.write32(L.state.free, this.geom.ring + r.index * L.size.ring + R.state);
        this.closedSeen.delete(r.index);
        continue;
      }
      if (r.state === L.state.closed) this.closedSeen.add(r.index);
      else this.closedSeen.delete(r.index);
      const got = r.head > r.tail ? this.drainRing(r, lists.length, retain) : undefined;
      const pend = final && r.pending && r.state === L.state.used ? this.pendingExec(r) : undefined;
      if (got || pend) lists.push({ buf: got?.buf ?? Buffer.alloc(0), offs: got?.offs ?? [], pend });
    }
    if (this.scratchBytes > SCRATCH_KEPT) {   // the buffers of this poll stay alive in lists
      this.scratch = [];
      this.scratchBytes = 0;
    }
    if (lists.length === 1) {
      const l = lists[0] as (typeof lists)[number];
      for (const o of l.offs) visit(l.buf, o, l.buf.readUInt32LE(o + C.size), false);
      n += l.offs.length;
      if (l.pend) { visit(l.pend, 0, l.pend.length, true); n++; }
      return n;
    }
    // several threads: merged by entry time (a pending exec last in its ring)
    const at = lists.map(() => 0);
    const tsOf = (k: number): [number, number] | undefined => {
      const l = lists[k] as (typeof lists)[number];
      const i = at[k] as number;
      if (i < l.offs.length) {
        const o = (l.offs[i] as number) + C.ts_ns;
        return [l.buf.readUInt32LE(o + 4), l.buf.readUInt32LE(o)];
      }
      if (i === l.offs.length && l.pend) return [l.pend.readUInt32LE(C.ts_ns + 4), l.pend.readUInt32LE(C.ts_ns)];
      return undefined;
    };
    for (;;) {
      let best = -1;
      let bh = 0, bl = 0;
      for (let k = 0; k < lists.length; k++) {
        const t = tsOf(k);
        if (t && (best < 0 || t[0] < bh || (t[0] === bh && t[1] < bl))) { best = k; bh = t[0]; bl = t[1]; }
      }
      if (best < 0) return n;
      const l = lists[best] as (typeof lists)[number];
      const i = at[best] as number;
      if (i < l.offs.length) {
        const o = l.offs[i] as number;
        visit(l.buf, o, l.buf.readUInt32LE(o + C.size), false);
      } else if (l.pend) visit(l.pend, 0, l.pend.length, true);
      at[best] = i + 1;
      n++;
    }
  }

  /** The final drain: the rest of every ring; then the run's processes are told that
   *  nobody reads (they drop and count from now on) and the segment is closed. */
  finish(): TraceEvent[] {
    const out: TraceEvent[] = [];
    this.finishRecords((buf, off, size, pend) => { out.push(this.event(buf, off, size, pend)); }, true);
    return out;
  }

  /** finish(), the records given to visit as pollRecords gives them. */
  finishRecords(visit: RecordVisitor, retain = false): number {
    if (this.closed) return 0;
    const n = this.pollRecords(visit, true, retain);
    const h = this.header();
    this.write32(h.readUInt32LE(H.flags) | L.flag.closed, H.flags);
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { closeSync(this.fd); } catch { /* closed */ }
  }
}

/**
 * A TraceEvent read from a record: the numbers are read when first asked for (a consumer
 * that counts calls or looks at a few fields pays for no BigInt it does not use), from the
 * chunk of the ring the reader copied, which the event keeps.
 */
class RecordEvent implements TraceEvent {
  readonly pid: number;
  readonly tid: number;
  readonly nr: number;
  readonly abi: 'x86_64' | 'i386';
  private readonly fl: number;
  private cArgs: bigint[] | undefined;
  private cData: TraceEvent['data'] | undefined;
  private cSite: TraceEvent['site'] | undefined;
  private cRet: bigint | undefined;

  constructor(private readonly b: Buffer, private readonly o: number, private readonly size: number,
    private readonly module: string | null, private readonly pendingExec: boolean) {
    this.pid = b.readUInt32LE(o + C.pid);
    this.tid = b.readUInt32LE(o + C.tid);
    this.nr = b.readInt32LE(o + C.nr);
    this.fl = b.readUInt16LE(o + C.flags);
    this.abi = this.fl & L.rflag.i386 ? 'i386' : 'x86_64';
  }

  get args(): bigint[] {
    if (!this.cArgs) {
      const a: bigint[] = [];
      for (let k = 0; k < 6; k++) a.push(this.b.readBigUInt64LE(this.o + C.args + 8 * k));
      this.cArgs = a;
    }
    return this.cArgs;
  }

  get site(): TraceEvent['site'] {
    this.cSite ??= { module: this.module, offset: this.b.readBigUInt64LE(this.o + C.offset) };
    return this.cSite;
  }

  get ret(): bigint {
    this.cRet ??= this.pendingExec ? 0n : this.b.readBigInt64LE(this.o + C.ret);
    return this.cRet;
  }
  get tsNs(): bigint { return this.b.readBigUInt64LE(this.o + C.ts_ns); }
  get durNs(): bigint { return this.b.readBigUInt64LE(this.o + C.dur_ns); }

  get policy(): 'injected' | 'denied' | undefined {
    return this.fl & L.rflag.denied ? 'denied' : this.fl & L.rflag.injected ? 'injected' : undefined;
  }

  get lostBefore(): number | undefined {
    const n = this.b.readUInt32LE(this.o + C.lost_before);
    return n || undefined;
  }

  get signal(): number | undefined {
    return this.b.readUInt16LE(this.o + C.signal) || undefined;
  }

  get killed(): boolean | undefined {
    return this.fl & L.rflag.killed ? true : undefined;
  }

  get data(): TraceEvent['data'] {
    if (!this.cData) {
      const b = this.b, end = this.o + this.size;
      const out: TraceEvent['data'] = [];
      let p = this.o + L.size.rec;
      for (let k = 0, n = b.readUInt16LE(this.o + C.ndata); k < n && p + L.size.data <= end; k++) {
        const len = b.readUInt32LE(p + D.len);
        const start = p + L.size.data;
        if (start + len > end) break;
        out.push({
          arg: b.readUInt8(p + D.arg), dir: b.readUInt8(p + D.dir) === L.dir.out ? 'out' : 'in',
          bytes: b.subarray(start, start + len), truncated: (b.readUInt16LE(p + D.flags) & L.dir.truncated) !== 0,
        });
        p = start + up(len, L.const.align);
      }
      this.cData = out;
    }
    return this.cData;
  }

  toJSON(): Record<string, unknown> {
    const ev: Record<string, unknown> = {
      pid: this.pid, tid: this.tid, nr: this.nr, abi: this.abi, args: this.args.map(String), ret: String(this.ret),
      tsNs: String(this.tsNs), durNs: String(this.durNs), site: { module: this.site.module, offset: String(this.site.offset) },
      data: this.data.map((d) => ({ ...d, bytes: d.bytes.toString('base64') })),
    };
    if (this.policy) ev.policy = this.policy;
    if (this.lostBefore) ev.lostBefore = this.lostBefore;
    if (this.signal) ev.signal = this.signal;
    if (this.killed) ev.killed = true;
    return ev;
  }
}

// ---- a run's policy: the files, the reader, the events -----------------------------------

/** The policy a run was given, made into files: the policy file (TRAPLINE_POLICY) and, when
 *  calls are traced, the trace segment, in a private directory of their own. */
export interface PreparedPolicy {
  dir: string;
  file: string;
  segment?: string;
  rules: Rule[];
  trace?: TraceOptions;
}

/** Checks what the C core takes that the parser does not (at most 64 rules, delays of at
 *  most an hour) and writes the files. OptionError names the rule at fault. */
export function preparePolicy(rules: readonly Rule[], trace: TraceOptions | undefined, names: OptionNames): PreparedPolicy | undefined {
  const used = rules.filter((r) => r.nrs.length > 0 && (r.action !== 'trace' || trace !== undefined));
  if (used.length === 0) return undefined;
  const say = (r: Rule, problem: string): never => {
    throw new OptionError(r.action, `${names(r.action)}: rule '${r.text}': ${problem}`);
  };
  if (used.length > MAX_RULES) say(used[MAX_RULES] as Rule, `more than ${MAX_RULES} rules (after --from scopes are applied): the core takes at most ${MAX_RULES}`);
  for (const r of used) {
    for (const d of [r.delayEnterUs, r.delayExitUs]) if (d !== undefined && d > MAX_DELAY_US) say(r, 'a delay of more than an hour');
    if (r.nrs.some((n) => !Number.isInteger(n) || n < 0 || n >= 512)) say(r, 'a system call number outside 0..511');
    if (r.scope.module !== undefined && Buffer.byteLength(r.scope.module) > 1023) say(r, 'a module longer than 1023 bytes');
  }
  const dir = mkdtempSync(join(tmpdir(), 'trapline-policy-'));
  try {
    const file = join(dir, 'policy');
    const traced = trace !== undefined && used.some((r) => r.action === 'trace');
    let ring: { strsize: number; lossy: boolean; path: string; cookie: bigint } | undefined;
    if (traced) {
      const path = join(dir, 'trace');
      const strsize = Math.min(trace.strsize, L.const.strsize_max);
      const cookie = createSegment(path, { rings: DEFAULT_RINGS, ringSize: ringSizeFor(strsize), modules: DEFAULT_MODULES });
      ring = { strsize, lossy: trace.lossy, path, cookie };
    }
    writePolicyFile(file, policyText(used, ring));
    const out: PreparedPolicy = { dir, file, rules: used };
    if (ring) { out.segment = ring.path; out.trace = trace; }
    return out;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Events buffered beyond which the reader stops draining while a consumer iterates (the
 *  program then waits in lossless mode): a slow consumer holds the program back, it never
 *  fills memory. Before anyone iterates, events are kept whatever their number. */
const HIGH_WATER = 65536;

/** What takes a feed's records instead of its event queue (the CLI's strace printer): each
 *  record as it is read (its bytes valid during the call only), then flush() after each
 *  poll's records, then end() once. */
export interface RecordSink {
  /** the reader the records come from (its event() makes an event of one) */
  start(reader: TraceReader): void;
  record: RecordVisitor;
  flush(): void;
  end(error?: Error): void;
}

/**
 * The events of a running program: polls its trace segment from construction until
 * finish(), queues the events and hands them out through an async iterator (one queue:
 * each event is given once).
 */
export class TraceFeed implements AsyncIterable<TraceEvent> {
  private q: TraceEvent[] = [];
  private qi = 0;
  private wake: (() => void) | undefined;
  private ended = false;
  private error: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idle = 0;
  private pulled = false;
  /** Drops and waits, once finished. */
  counts: TraceCounts | undefined;

  constructor(private reader: TraceReader, private cleanup: () => void, private sink?: RecordSink) {
    sink?.start(reader);
    this.schedule(1);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private push(evs: TraceEvent[]): void {
    if (!evs.length) return;
    for (const e of evs) this.q.push(e);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.ended) return;
    let n = 0;
    if (!(this.pulled && this.q.length - this.qi >= HIGH_WATER)) {
      try {
        if (this.sink) {
          n = this.reader.pollRecords(this.sink.record);
          this.sink.flush();
        } else {
          const evs = this.reader.poll();
          n = evs.length;
          this.push(evs);
        }
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        return;
      }
    }
    this.idle = n ? 0 : Math.min(this.idle + 1, 10);
    // records coming: at once (a full ring holds its thread back); else back off to 10 ms
    if (n) this.timer = setImmediate(() => this.tick()) as unknown as NodeJS.Timeout;
    else this.schedule(this.idle);
  }

  private end(): void {
    if (this.timer) { clearTimeout(this.timer); clearImmediate(this.timer as unknown as NodeJS.Immediate); }
    this.timer = undefined;
    this.ended = true;
    try { this.reader.close(); } catch { /* closed */ }
    this.cleanup();
    if (this.sink) {
      const e = this.error;
      this.error = undefined;
      this.sink.end(e);
    }
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private fail(e: Error): void {
    this.error = e;
    this.end();
  }

  /** The program has exited: the rest of the records, then the end of the events. */
  finish(): void {
    if (this.ended) return;
    try {
      if (this.sink) {
        this.reader.finishRecords(this.sink.record);
        this.sink.flush();
      } else this.push(this.reader.finish());
      this.counts = this.reader.counts();
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
    }
    this.end();
  }

  /** The program could not be started. */
  abort(): void {
    if (!this.ended) this.end();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TraceEvent> {
    this.pulled = true;
    const it: AsyncIterableIterator<TraceEvent> = {
      next: async (): Promise<IteratorResult<TraceEvent>> => {
        for (;;) {
          if (this.qi < this.q.length) {
            const value = this.q[this.qi] as TraceEvent;
            this.q[this.qi++] = undefined as unknown as TraceEvent;
            if (this.qi > 4096 && this.qi * 2 > this.q.length) { this.q = this.q.slice(this.qi); this.qi = 0; }
            return { value, done: false };
          }
          if (this.error !== undefined) {
            const e = this.error;
            this.error = undefined;
            throw e;
          }
          if (this.ended) return { value: undefined, done: true };
          await new Promise<void>((resolve) => { this.wake = resolve; });
        }
      },
      return: (): Promise<IteratorResult<TraceEvent>> => Promise.resolve({ value: undefined, done: true }),
      [Symbol.asyncIterator]() { return it; },
    };
    return it;
  }
}
