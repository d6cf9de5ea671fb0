// Every error trapline throws on purpose is a TraplineError with a `code` (one per kind of
// problem, docs/api.md "Errors"): callers and the CLI tell errors apart by code, never by
// their message text, which is for people and may change.
import type { Exit } from './api.js';

/** The codes of trapline's errors. */
export type TraplineErrorCode =
  /** OptionError: a bad option or argument of spawn()/run(); nothing was started. */
  | 'ERR_TRAPLINE_OPTION'
  /** PlanError: a malformed plan, or a plan file that cannot be read or written. */
  | 'ERR_TRAPLINE_PLAN'
  /** StatsError: a malformed, truncated or unreadable statistics segment or report. */
  | 'ERR_TRAPLINE_STATS'
  /** ElfError: not a well-formed x86-64 ELF executable or shared object. */
  | 'ERR_TRAPLINE_ELF'
  /** FileReadError: a file to be read is missing, unreadable, not a regular file or too large. */
  | 'ERR_TRAPLINE_FILE'
  /** The native library or addon has not been built (run npm install). */
  | 'ERR_TRAPLINE_NOT_BUILT'
  /** The command line: a bad command, option or argument (the CLI only; exit status 2). */
  | 'ERR_TRAPLINE_USAGE';

export class TraplineError extends Error {
  /** Set when the error happened after the program ran (reading its final statistics,
   *  learning from them): the program's exit status and coverage. */
  exit?: Exit;
  /**
   * code: what went wrong (TraplineErrorCode). fsCode: when a file system call failed, its
   * errno name (ENOENT, EACCES, ...), or ENOTREG (not a regular file) or EFBIG (too large).
   */
  constructor(readonly code: TraplineErrorCode, message: string, readonly fsCode?: string) {
    super(message);
    this.name = 'TraplineError';
  }
}

/** A bad option of spawn()/run() (or of `trapline run`); nothing was started. option: the
 *  option at fault, by its SpawnOptions name ('mode', 'statsFile', 'env', ...; 'program'
 *  and 'args' for the arguments). The message names it as the caller wrote it:
 *  `options.mode: ...` through the API, `--mode: ...` on the command line. */
export class OptionError extends TraplineError {
  constructor(readonly option: string, message: string) {
    super('ERR_TRAPLINE_OPTION', message);
    this.name = 'OptionError';
  }
}

/** A malformed or unreadable plan file ("<file>:<line>: <problem>"), or one that cannot be
 *  written. fsCode: the errno name when a file system call failed. */
export class PlanError extends TraplineError {
  constructor(message: string, fsCode?: string) {
    super('ERR_TRAPLINE_PLAN', message, fsCode);
    this.name = 'PlanError';
  }
}

/** A malformed, truncated or unreadable statistics segment (or report). fsCode: the errno
 *  name when the file could not be read (ENOENT, EACCES, ...). */
export class StatsError extends TraplineError {
  constructor(message: string, fsCode?: string) {
    super('ERR_TRAPLINE_STATS', message, fsCode);
    this.name = 'StatsError';
  }
}

/** Not a well-formed ELF64 x86-64 executable or shared object. */
export class ElfError extends TraplineError {
  constructor(message: string) {
    super('ERR_TRAPLINE_ELF', message);
    this.name = 'ElfError';
  }
}

/** Why a file could not be read: one short phrase (problem), e.g. "not a regular file (a
 *  FIFO)"; fsCode: the errno name, ENOTREG (not a regular file) or EFBIG (too large). */
export class FileReadError extends TraplineError {
  constructor(readonly problem: string, fsCode?: string) {
    super('ERR_TRAPLINE_FILE', problem, fsCode);
    this.name = 'FileReadError';
  }
}

/** The native library or addon is missing: the package was not built. */
export function notBuilt(what: string, file: string): TraplineError {
  return new TraplineError('ERR_TRAPLINE_NOT_BUILT', `trapline: ${what} not built: run npm install (missing ${file})`);
}
