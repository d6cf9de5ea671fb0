// `trapline trace`'s printer: the records of a run's trace segment as strace's lines, written
// to a file or standard error while the program runs (docs/policies.md, "Output").
//
// The reader hands it each record's bytes straight from the copy of its ring (no event
// object); the calls a hot loop makes most (read, write, pread64, pwrite64, close and the
// calls without arguments) are printed from those bytes here, with numbers instead of
// BigInts and the constant parts (names, thread prefixes, errno texts) cached; every other
// record becomes a TraceEvent and goes through formatEvent (ts/src/policy/format.ts). Both
// print the same characters: test/trace-print.test.ts compares them record by record.
// Lines are gathered into one string per poll (or 64 KiB) and written at once.
import { writeSync } from 'node:fs';
import { DECODERS } from './policy/decode.js';
import { createFormatter, formatTimestamp, type StreamFormatter } from './policy/format.js';
import { errnoMessage, errnoName } from './policy/names.js';
import { argCount } from './policy/sets.js';
import type { TraceOptions } from './policy/types.js';
import { SYSCALL_NAMES } from './syscalls.js';
import { TRACE_LAYOUT as L } from './trace-layout.js';
import type { RecordSink, TraceReader } from './trace.js';

const C = L.rec;
const D = L.data;

// how a call is printed here: 0 not here (formatEvent)
const BUF_OUT = 1;   // read(fd, "bytes the kernel wrote", count), pread64 (+ offset)
const BUF_IN = 2;    // write(fd, "bytes the kernel read", count), pwrite64 (+ offset)
const FD = 3;        // close(fd)
const NO_ARGS = 4;   // getpid() and every call without arguments or a decoder of its own

const KIND = new Uint8Array(512);
const NAME: string[] = [];
for (let nr = 0; nr < 512; nr++) {
  const name = SYSCALL_NAMES[nr];
  if (name === undefined) continue;
  NAME[nr] = name;
  if (name === 'read' || name === 'pread64') KIND[nr] = BUF_OUT;
  else if (name === 'write' || name === 'pwrite64') KIND[nr] = BUF_IN;
  else if (name === 'close') KIND[nr] = FD;
  // (fork and vfork start a process: createFormatter's prefixes follow them)
  else if (DECODERS[name] === undefined && argCount(nr) === 0 && name !== 'fork' && name !== 'vfork') KIND[nr] = NO_ARGS;
}
const WITH_OFFSET = new Set(['pread64', 'pwrite64']);

/** ` = ` is in strace's column 40: spaces to pad a head of n < 39 characters */
const RESULT_COLUMN = 39;
const PAD: string[] = [];
for (let n = 0; n <= RESULT_COLUMN; n++) PAD.push(' '.repeat(RESULT_COLUMN - n));

const RESTART: Readonly<Record<number, true>> = { 512: true, 513: true, 514: true, 516: true };
const errText: string[] = [];
/** the result of a call that failed with errno e, as format.ts writes it */
function errnoText(e: number): string {
  let t = errText[e];
  if (t === undefined) {
    const name = errnoName(e);
    t = name === undefined ? `-1 (errno ${e})` : `${RESTART[e] ? '?' : '-1'} ${name} (${errnoMessage(e)})`;
    errText[e] = t;
  }
  return t;
}

// strace's string_quote for one byte, as quote.ts writes it: the escape, or octal as short
// as the next byte allows (SHORT: the next is not an octal digit; LONG: it is)
const SHORT: string[] = [];
const LONG: string[] = [];
for (let c = 0; c < 256; c++) {
  const special: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v' };
  const sp = special[c];
  if (sp !== undefined) { SHORT.push(sp); LONG.push(sp); continue; }
  if (c >= 0x20 && c <= 0x7e) { const ch = String.fromCharCode(c); SHORT.push(ch); LONG.push(ch); continue; }
  LONG.push(`\\${c >> 6}${(c >> 3) & 7}${c & 7}`);
  SHORT.push(`\\${c >> 6 ? String(c >> 6) : ''}${c >> 3 ? String((c >> 3) & 7) : ''}${c & 7}`);
}
const ONE = SHORT.map((e) => `"${e}"`);   // a one-byte string

/** bytes [start, start + len) of buf in strace's quotes, cut at strsize (quoteLimited) */
function quote(buf: Buffer, start: number, len: number, strsize: number, truncated: boolean): string {
  const cut = len > strsize;
  const n = cut ? strsize : len;
  let s: string;
  if (n === 1) s = ONE[buf[start] as number] as string;
  else {
    s = '"';
    const end = start + n;
    let run = start;   // printable bytes since run, copied at once
    for (let i = start; i < end; i++) {
      const c = buf[i] as number;
      if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
      if (i > run) s += buf.toString('latin1', run, i);
      const next = i + 1 < end ? buf[i + 1] as number : 0;
      s += next >= 0x30 && next <= 0x37 ? LONG[c] : SHORT[c];
      run = i + 1;
    }
    if (end > run) s += buf.toString('latin1', run, end);
    s += '"';
  }
  return cut || truncated ? `${s}...` : s;
}

/** an unsigned 64-bit value at p, in decimal */
function u64(buf: Buffer, p: number): string {
  const hi = buf.readUInt32LE(p + 4);
  return hi === 0 ? String(buf.readUInt32LE(p)) : buf.readBigUInt64LE(p).toString();
}

/** a signed 64-bit value at p, in decimal */
function i64(buf: Buffer, p: number): string {
  const hi = buf.readInt32LE(p + 4);
  const lo = buf.readUInt32LE(p);
  if (hi === 0) return String(lo);
  if (hi === -1 && lo >= 0x80000000) return String(lo - 0x100000000);
  return buf.readBigInt64LE(p).toString();
}

/** a pointer at p: NULL or its hex */
function ptr(buf: Buffer, p: number): string {
  const hi = buf.readUInt32LE(p + 4);
  const lo = buf.readUInt32LE(p);
  if (hi === 0) return lo === 0 ? 'NULL' : `0x${lo.toString(16)}`;
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** Bytes of output gathered before a write. */
const OUT_SIZE = 1 << 18;
interface Latin1Write { latin1Write(s: string, at: number): number }

/** A record with at most this many bytes of items may repeat its number's last line. */
const REPEAT_ITEM_BYTES = 32;
/** the words compared: size, tid and nr, args and ret, ndata/signal and the items */
const REPEAT_WORDS = 1 + 2 + 14 + 1 + REPEAT_ITEM_BYTES / 4;

/** Prints the records of a run as strace's lines into fd (2: standard error), prefixed as
 *  strace prefixes them in a file (-o) or on a stream (createFormatter; by default a stream
 *  for fd 2); coreDumps: for the `+++ killed by SIGSYS (core dumped) +++` of a deny kill.
 *  done resolves once the records end (rejects with the reader's error). */
export class StracePrinter implements RecordSink {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: Error) => void;
  private reader: TraceReader | undefined;
  private readonly formatter: StreamFormatter;
  private readonly obuf = Buffer.allocUnsafeSlow(OUT_SIZE);
  private pos = 0;
  private readonly leads = new Map<number, string>();   // tid -> its prefix (as last used)
  private leadsPid = false;
  private wBuf: Buffer | undefined;
  private wView: Int32Array | undefined;
  private readonly ck = new Int32Array(512 * REPEAT_WORDS);
  private readonly cLine: (string | undefined)[] = [];
  private readonly cLead: string[] = [];
  private readonly cBytes: (Buffer | undefined)[] = [];

  constructor(private readonly opts: TraceOptions, private readonly fd: number, coreDumps = false,
    output: 'file' | 'stream' = fd === 2 ? 'stream' : 'file') {
    this.formatter = createFormatter(opts, output, coreDumps);
    this.done = new Promise((res, rej) => { this.resolve = res; this.reject = rej; });
    this.done.catch(() => { /* the caller's */ });
  }

  /** pid's end was printed (a call killed it) */
  ended(pid: number): boolean {
    return this.formatter.ended(pid);
  }

  start(reader: TraceReader): void {
    this.reader = reader;
  }

  record = (buf: Buffer, o: number, size: number, pendingExec: boolean): void => {
    const nr = buf.readInt32LE(o + C.nr);
    const kind = nr >= 0 && nr < 512 ? KIND[nr] as number : 0;
    const line = kind && !pendingExec && buf.readUInt16LE(o + C.flags) === 0 && buf.readUInt16LE(o + C.signal) === 0
      ? this.fast(buf, o, size, nr, kind) : undefined;
    if (typeof line === 'number') {
      // the same line as the last call of that number
      const bytes = this.cBytes[line] as Buffer;
      if (this.pos + bytes.length > OUT_SIZE) this.flush();
      this.obuf.set(bytes, this.pos);
      this.pos += bytes.length;
    } else if (line !== undefined) {
      // ASCII: one byte a character
      if (this.pos + line.length > OUT_SIZE) this.flush();
      this.pos += (this.obuf as unknown as Latin1Write).latin1Write(line, this.pos);
    } else this.text(`${this.formatter.format((this.reader as TraceReader).event(buf, o, size, pendingExec))}\n`);
  };

  /** a line formatEvent made: UTF-8 (it prints no other byte than ASCII, but may) */
  private text(line: string): void {
    const n = Buffer.byteLength(line);
    if (this.pos + n > OUT_SIZE) this.flush();
    if (n > OUT_SIZE) this.write(Buffer.from(line));
    else this.pos += this.obuf.write(line, this.pos);
  }

  /** the line of a call printed here, or nr: the same line as nr's last one */
  private fast(buf: Buffer, o: number, size: number, nr: number, kind: number): string | number {
    const tid = buf.readUInt32LE(o + C.tid);
    let lead = this.lead(tid, buf.readUInt32LE(o + C.pid));
    // the same call as the last one of this number (a loop): the same line
    const w = this.words(buf);
    const repeat = this.opts.timestamps === 'none' && w !== undefined && size <= L.size.rec + REPEAT_ITEM_BYTES;
    if (repeat && this.same(w, o >> 2, size, nr, lead)) return nr;
    if (this.opts.timestamps !== 'none') lead += formatTimestamp(buf.readBigUInt64LE(o + C.ts_ns), this.opts.timestamps);
    const line = this.format(buf, o, size, nr, kind, lead);
    if (repeat) this.keep(w, o >> 2, size, nr, lead, line);
    return line;
  }

  /** an Int32Array over buf (records are 8-byte aligned in it), or undefined */
  private words(buf: Buffer): Int32Array | undefined {
    if (buf === this.wBuf) return this.wView;
    if (buf.byteOffset & 7) return undefined;
    this.wBuf = buf;
    this.wView = new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2);
    return this.wView;
  }

  // what the line of a record depends on (besides its prefix): its size, thread and number
  // (words 3, 4), arguments and result (8..21), item count and items (27..27 + ITEM_WORDS)
  private same(w: Int32Array, b: number, size: number, nr: number, lead: string): boolean {
    if (this.cLine[nr] === undefined || this.cLead[nr] !== lead) return false;
    const k = this.ck;
    const c = nr * REPEAT_WORDS;
    if (k[c] !== size || k[c + 1] !== w[b + 3] || k[c + 2] !== w[b + 4]) return false;
    for (let i = 0; i < 14; i++) if (k[c + 3 + i] !== w[b + 8 + i]) return false;
    const n = (size >> 2) - 27;   // words from ndata to the record's end
    for (let i = 0; i < n; i++) if (k[c + 17 + i] !== w[b + 27 + i]) return false;
    return true;
  }

  private keep(w: Int32Array, b: number, size: number, nr: number, lead: string, line: string): void {
    const k = this.ck;
    const c = nr * REPEAT_WORDS;
    k[c] = size;
    k[c + 1] = w[b + 3] as number;
    k[c + 2] = w[b + 4] as number;
    for (let i = 0; i < 14; i++) k[c + 3 + i] = w[b + 8 + i] as number;
    const n = (size >> 2) - 27;
    for (let i = 0; i < n; i++) k[c + 17 + i] = w[b + 27 + i] as number;
    this.cLine[nr] = line;
    this.cBytes[nr] = Buffer.from(line, 'latin1');
    this.cLead[nr] = lead;
  }

  private format(buf: Buffer, o: number, size: number, nr: number, kind: number, lead: string): string {
    const r = o + C.ret;
    const rhi = buf.readInt32LE(r + 4);
    const rlo = buf.readUInt32LE(r);
    const failed = rhi === -1 && rlo >= 0xfffff001;
    const ret = failed ? errnoText(0x100000000 - rlo) : rhi === 0 ? String(rlo) : i64(buf, r);
    const a = o + C.args;
    let head: string;
    if (kind === NO_ARGS) head = `${lead}${NAME[nr] as string}()`;
    else if (kind === FD) head = `${lead}close(${buf.readInt32LE(a)})`;
    else {
      // the buffer: the item captured for argument 1 in the call's direction
      const out = kind === BUF_OUT;
      let text: string | undefined;
      if (kind === BUF_OUT && failed) text = ptr(buf, a + 8);
      else if (kind === BUF_IN && buf.readUInt32LE(a + 8) === 0 && buf.readUInt32LE(a + 12) === 0) text = 'NULL';
      else {
        const end = o + size;
        let p = o + L.size.rec;
        for (let k = 0, n = buf.readUInt16LE(o + C.ndata); k < n && p + L.size.data <= end; k++) {
          const len = buf.readUInt32LE(p + D.len);
          const start = p + L.size.data;
          if (start + len > end) break;
          if (buf[p + D.arg] === 1 && (buf[p + D.dir] === L.dir.out) === out) {
            text = quote(buf, start, len, this.opts.strsize, (buf.readUInt16LE(p + D.flags) & L.dir.truncated) !== 0);
            break;
          }
          p = start + ((len + 7) & ~7);
        }
        if (text === undefined) {
          text = kind === BUF_OUT && rhi === 0 && rlo === 0 && (buf.readUInt32LE(a + 8) !== 0 || buf.readUInt32LE(a + 12) !== 0)
            ? '""' : ptr(buf, a + 8);
        }
      }
      const name = NAME[nr] as string;
      head = `${lead}${name}(${buf.readInt32LE(a)}, ${text}, ${u64(buf, a + 16)}${WITH_OFFSET.has(name) ? `, ${i64(buf, a + 24)}` : ''})`;
    }
    return head.length < RESULT_COLUMN ? `${head}${PAD[head.length] as string} = ${ret}\n` : `${head} = ${ret}\n`;
  }

  /** the thread prefix of tid's line (createFormatter decides which) */
  private lead(tid: number, pid: number): string {
    const kind = this.formatter.prefixOf(tid, pid);
    if (kind === 'none') return '';
    const isPid = kind === 'pid';
    if (isPid !== this.leadsPid) { this.leads.clear(); this.leadsPid = isPid; }
    let s = this.leads.get(tid);
    if (s === undefined) {
      s = isPid ? `[pid ${String(tid).padStart(5)}] ` : `${String(tid).padEnd(5)} `;
      this.leads.set(tid, s);
    }
    return s;
  }

  flush(): void {
    if (!this.pos) return;
    const n = this.pos;
    this.pos = 0;
    // process.stderr copies what it cannot write at once: a copy for it
    this.write(this.fd === 2 ? Buffer.from(this.obuf.subarray(0, n)) : this.obuf.subarray(0, n));
  }

  private write(b: Buffer): void {
    if (this.fd === 2) { process.stderr.write(b); return; }
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off, b.length - off);
  }

  end(error?: Error): void {
    try {
      this.flush();
    } catch (e) {
      error ??= e instanceof Error ? e : new Error(String(e));
    }
    if (error) this.reject(error);
    else this.resolve();
  }
}
