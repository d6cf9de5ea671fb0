// Reading a file the user named (a report, a statistics segment, a plan, an ELF file):
// never block on a FIFO, never read a device, never read more than a cap.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { FileReadError } from './errors.js';

export { FileReadError };

function kind(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'is a directory';
  if (st.isFIFO()) return 'not a regular file (a FIFO)';
  if (st.isCharacterDevice()) return 'not a regular file (a character device)';
  if (st.isBlockDevice()) return 'not a regular file (a block device)';
  if (st.isSocket()) return 'not a regular file (a socket)';
  return 'not a regular file';
}

/** A size in the units people use: "64 MiB". */
export function sizeText(n: number): string {
  return n >= 2 ** 30 && n % 2 ** 30 === 0 ? `${n / 2 ** 30} GiB` : n >= 2 ** 20 && n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`;
}

/** One phrase for an error from the file system (ENOENT: "no such file", ...). */
export function describeFsError(e: unknown): string {
  if (e instanceof FileReadError) return e.problem;
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'ELOOP': return 'too many symbolic links';
    case 'ENAMETOOLONG': return 'file name too long';
    default: return err?.code ?? (e instanceof Error ? e.message : String(e));
  }
}

/**
 * Checks that path is a regular file no larger than max bytes, without reading it (and
 * without blocking: a FIFO is opened O_NONBLOCK). Throws FileReadError.
 */
export function checkRegularFile(path: string, max: number): void {
  const fd = openRegular(path, max);
  closeSync(fd.fd);
}

function openRegular(path: string, max: number): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new FileReadError(describeFsError(e), (e as NodeJS.ErrnoException).code);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(kind(st), st.isDirectory() ? 'EISDIR' : 'ENOTREG');
    if (st.size > max) throw new FileReadError(`larger than ${sizeText(max)} (${st.size} bytes)`, 'EFBIG');
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    if (e instanceof FileReadError) throw e;
    throw new FileReadError(describeFsError(e), (e as NodeJS.ErrnoException).code);
  }
}

/**
 * Reads a regular file of at most max bytes. A FIFO, device, socket or directory, a
 * larger file, or a file system error: FileReadError. The size is taken when the file is
 * opened; a file that grows meanwhile is read up to that size, one that shrinks up to its
 * end.
 */
export function readRegularFile(path: string, max: number): Buffer {
  const { fd, size } = openRegular(path, max);
  try {
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      let n: number;
      try {
        n = readSync(fd, buf, got, size - got, got);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EINTR') continue;
        throw new FileReadError(describeFsError(e), (e as NodeJS.ErrnoException).code);
      }
      if (n === 0) break;
      got += n;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
