#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { deriveMode, doctorJson, doctorReport } from './doctor.js';
import { probe } from './native.js';
import { packageRoot } from './paths.js';
import { effectivePlan, OptionError, outputFileProblem, spawnProgram, waitProgram } from './run.js';
import { loadReport, renderSummary } from './report.js';
import { readStats } from './stats.js';
import { recordLearned } from './learn.js';
import { planCacheDir, readPlanFile } from './plan.js';
import { SCAN_USAGE, scanCommand } from './scan-cli.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHtmlReport } from './html/render.js';

const USAGE = `usage: trapline <command> [options]

commands:
  run [--hook LIB] [--mode lazy|sud-only|eager] [--plan FILE|auto] [--learn FILE]
      [--rewrite all|verified|none] [--stats FILE [--stats-append]] [--no-follow-exec]
      [--allow-null-reads] [--report FILE.json] [--html OUT.html] [--summary] [--allow-uninterposed]
      [--] PROG [ARGS...]
                   run PROG under the system-call interposer
  report [--json] FILE
                   render a saved report (FILE.json) or statistics segment
  report --html OUT.html FILE [FILE2]
                   write the report as one self-contained HTML page; with FILE2, a page
                   comparing the two runs
  doctor [--json]  report what this machine supports and the mode a run will use
  scan [--json] [--plan FILE|auto] [--all] FILE...
                   find and classify the syscall sites of ELF files; write plans
  help [COMMAND]   show help

Run 'trapline COMMAND --help' for a command's options.
`;

const RUN_USAGE = `usage: trapline run [options] [--] PROG [ARGS...]

Runs PROG (looked up in PATH) with libtrapline.so preloaded and exits with its status;
if PROG is killed by a signal, reports it like a shell and exits with 128+signal.

options:
  --hook LIB       load the hook library LIB into the program (TRAPLINE_HOOK)
  --mode MODE      lazy (trampoline at address 0 + SUD), sud-only (TRAPLINE_MODE), or
                   eager (lazy, plus a plan's sites rewritten before they run; the
                   plan defaults to auto); default: the best mode the machine supports
                   that keeps NULL reads faulting (lazy where page 0 can be made
                   execute-only by a protection key, else sud-only)
  --allow-null-reads
                   on a CPU without protection keys, use lazy/eager anyway: page 0 is
                   then readable, so a NULL data read returns trampoline bytes instead
                   of crashing (TRAPLINE_ALLOW_NULL_READS=1)
  --plan FILE|auto rewrite the sites of plan FILE (from 'trapline scan --plan' or
                   --learn) at start-up and when a matching library is loaded
                   (TRAPLINE_PLAN); auto: the plan cache, keyed by build-id, which
                   also learns this run's sites after it exits
  --learn FILE     after PROG exits, merge the sites it executed into plan FILE
  --rewrite POLICY all (default): rewrite every executed site and every plan site;
                   verified: only plan sites the scanner confirmed, every other site
                   stays on the trap path; none: rewrite nothing (TRAPLINE_REWRITE)
  --stats FILE     write statistics to FILE (TRAPLINE_STATS), a new file
  --stats-append   FILE may exist: add this run to it (same mode and policy)
  --no-follow-exec do not re-interpose programs PROG execs (TRAPLINE_FOLLOW_EXEC=0);
                   by default they are interposed even if PROG clears its environment
  --report FILE    after PROG exits, write the coverage report (JSON) to FILE
  --html FILE      after PROG exits, write the coverage report as one self-contained
                   HTML page to FILE (as 'trapline report --html'; see docs/report.md)
  --summary        after PROG exits, print per-syscall and per-module tables on stderr
  --allow-uninterposed
                   run PROG even if it is setuid or setgid: the loader ignores
                   LD_PRELOAD for such a program, so it runs without trapline (by
                   default it is refused); afterwards, say whether it was entered
  -h, --help       show this help

Options end at '--' or at the first argument that is not an option.
`;

const REPORT_USAGE = `usage: trapline report [--json] FILE
       trapline report --html OUT.html FILE [FILE2]

Renders a report saved by 'trapline run --report FILE', or a statistics segment
(--stats FILE), as text tables; --json prints it as JSON.

options:
  --json           print the report as JSON
  --html OUT.html  write the report as one HTML page that needs nothing else (no
                   network): was everything interposed, modules, system calls, sites
                   with their functions and instructions, processes; '-' writes it to
                   standard output. Given two files (before, after), the page shows what
                   changed between the two runs, then the second in detail
  -h, --help       show this help
`;

const DOCTOR_USAGE = `usage: trapline doctor [--json]

Probes the machine (Syscall User Dispatch, address 0, protection keys, XSAVE) and
reports the mode a run will use. Exits 0 if a run is possible, 1 otherwise.

options:
  --json           print the raw probe and the derived mode as JSON
  -h, --help       show this help
`;

/** A bad command line: reported as one line, exit status 2. */
class UsageError extends Error {}

type Spec = Record<string, 'string' | 'boolean'>;

/**
 * Parses leading options. With program=true, parsing stops at '--' or at the first
 * non-option argument and the remainder is returned in rest; otherwise any positional
 * argument is an error.
 */
function parseOptions(args: string[], spec: Spec, program: boolean) {
  const values: Record<string, string | boolean> = {};
  let rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      rest = args.slice(i + 1);
      if (!program && rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
      break;
    }
    if (arg === '-h' || arg === '--help') {
      values.help = true;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const type = spec[name];
      if (type === undefined) throw new UsageError(`unknown option --${name}`);
      if (type === 'boolean') {
        if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
        values[name] = true;
      } else {
        const value = inline ?? args[++i];
        if (value === undefined) throw new UsageError(`option --${name} needs a value`);
        // `--report -- prog`, `--stats --summary`: an option where the value should be
        if (inline === undefined && value.startsWith('-') && value !== '-') {
          throw new UsageError(`option --${name} needs a value, not '${value}' (write --${name}=${value} for a file named so)`);
        }
        values[name] = value;
      }
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else if (program) {
      rest = args.slice(i);
      break;
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  return { values, rest };
}

/** glibc's strsignal() texts, as a shell prints them. */
const SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: 'Hangup', SIGINT: 'Interrupt', SIGQUIT: 'Quit', SIGILL: 'Illegal instruction',
  SIGTRAP: 'Trace/breakpoint trap', SIGABRT: 'Aborted', SIGBUS: 'Bus error',
  SIGFPE: 'Floating point exception', SIGKILL: 'Killed', SIGUSR1: 'User defined signal 1',
  SIGSEGV: 'Segmentation fault', SIGUSR2: 'User defined signal 2', SIGPIPE: 'Broken pipe',
  SIGALRM: 'Alarm clock', SIGTERM: 'Terminated', SIGSTKFLT: 'Stack fault',
  SIGXCPU: 'CPU time limit exceeded', SIGXFSZ: 'File size limit exceeded',
  SIGVTALRM: 'Virtual timer expired', SIGPROF: 'Profiling timer expired', SIGIO: 'I/O possible',
  SIGPWR: 'Power failure', SIGSYS: 'Bad system call',
};
const CORE_SIGNALS = new Set(['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGXCPU', 'SIGXFSZ', 'SIGSYS']);

/**
 * Node does not expose WCOREDUMP, so guess it from what the child inherited:
 * RLIMIT_CORE (ignored by the kernel for a piped core_pattern unless it is 1).
 */
function coreDumpLikely(): boolean {
  try {
    const soft = /^Max core file size\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    const piped = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').startsWith('|');
    return piped ? soft !== '1' : soft !== '0';
  } catch {
    return false;
  }
}

async function cmdRun(args: string[]): Promise<number> {
  const { values, rest } = parseOptions(args, {
    hook: 'string', mode: 'string', plan: 'string', learn: 'string', rewrite: 'string', stats: 'string',
    'no-follow-exec': 'boolean', report: 'string', html: 'string', summary: 'boolean', 'allow-null-reads': 'boolean', 'stats-append': 'boolean', 'allow-uninterposed': 'boolean',
  }, true);
  if (values.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const [program, ...progArgs] = rest;
  if (program === undefined) throw new UsageError('run: no program given (see trapline run --help)');

  if (values.report === '') throw new UsageError('--report: empty path');
  if (values.learn === '') throw new UsageError('--learn: empty path');
  // the files written after the run are checked now, before the program starts
  if (values.report !== undefined) {
    const problem = outputFileProblem(values.report as string);
    if (problem) throw new UsageError(`--report: ${values.report}: ${problem}`);
  }
  if (values.html === '') throw new UsageError('--html: empty path');
  if (values.html !== undefined && values.html !== '-') {   // --html: checked like --report
    const problem = outputFileProblem(values.html as string);
    if (problem) throw new UsageError(`--html: ${values.html}: ${problem}`);
  }
  if (values.learn !== undefined) {
    const learnFile = values.learn as string;
    const problem = outputFileProblem(learnFile, true);
    if (problem) throw new UsageError(`--learn: ${learnFile}: ${problem}`);
    try { readPlanFile(learnFile); } catch (e) {
      if ((e as Error).message !== `${learnFile}: no such file`) throw new UsageError(`--learn: ${(e as Error).message}`);
    }
  }
  const planAuto = effectivePlan(values.mode as string | undefined, values.plan as string | undefined) === 'auto';
  const learn = values.learn !== undefined || planAuto;
  // --report/--summary/--learn need a segment: the one given with --stats, or a temporary one
  let tmp: string | undefined;
  let statsFile = values.stats as string | undefined;
  const allowUninterposed = values['allow-uninterposed'] === true;
  if (!statsFile && (values.report || values.html || values.summary || learn || allowUninterposed)) {
    tmp = mkdtempSync(join(tmpdir(), 'trapline-'));
    statsFile = join(tmp, 'stats');
  }
  try {
    return await runAndReport(program, progArgs, values, statsFile, learn, planAuto);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

async function runAndReport(
  program: string, progArgs: string[], values: Record<string, string | boolean>, statsFile: string | undefined,
  learn: boolean, planAuto: boolean,
): Promise<number> {
  const allowUninterposed = values['allow-uninterposed'] === true;
  // with --stats-append the segment already counts earlier runs' processes: this run
  // entered the program only if the count grew
  let processesBefore = 0;
  if (values['stats-append'] && statsFile) {
    try { processesBefore = readStats(statsFile).processes; } catch { /* checked before launch */ }
  }
  let child;
  try {
    child = spawnProgram(program, progArgs, {
      hook: values.hook as string | undefined,
      mode: values.mode as string | undefined,
      plan: values.plan as string | undefined,
      rewrite: values.rewrite as string | undefined,
      stats: statsFile,
      statsAppend: values['stats-append'] ? true : undefined,
      followExec: values['no-follow-exec'] ? false : undefined,
      allowNullReads: values['allow-null-reads'] ? true : undefined,
      allowUninterposed,
    });
  } catch (e) {
    throw e instanceof OptionError ? new UsageError(e.message) : e;
  }

  // Like a shell waiting for a foreground job: the terminal signals the child's process
  // group itself, so ignore SIGINT/SIGQUIT here; pass on the ones sent to us alone.
  const ignore = () => {};
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', ignore).on('SIGQUIT', ignore).on('SIGTERM', forward).on('SIGHUP', forward);

  let result;
  try {
    result = await waitProgram(child);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const notFound = err.code === 'ENOENT';
    process.stderr.write(`trapline: ${program}: ${notFound ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message}\n`);
    return notFound ? 127 : 126;
  } finally {
    process.off('SIGINT', ignore).off('SIGQUIT', ignore).off('SIGTERM', forward).off('SIGHUP', forward);
  }

  // a report, summary or plan that could not be made fails the run (status 1 if the
  // program itself succeeded), with one line
  let failed = false;
  // A program trapline could not enter (the loader ignored LD_PRELOAD) left no process in
  // the statistics: say so, and never report it as interposed.
  let entered = true;
  if (statsFile && (values.report || values.html || values.summary || learn || allowUninterposed)) {
    try {
      entered = readStats(statsFile).processes > processesBefore;
    } catch {
      entered = false;
    }
    if (!entered) {
      process.stderr.write(`trapline: ${program} was not interposed: no process joined the statistics (the loader ignored LD_PRELOAD: setuid/setgid, file capabilities, or a static program)\n`);
      if (values.report) writeFileSync(values.report as string, JSON.stringify({ interposed: false, program }, null, 2) + '\n');
    }
  }
  if (entered && statsFile && (values.report || values.html || values.summary || learn)) {
    try {
      const snap = readStats(statsFile);
      if (values.report) writeFileSync(values.report as string, JSON.stringify(snap, null, 2) + '\n');
      if (values.html) writeHtmlReport(values.html as string, [{ label: [program, ...progArgs].join(' ').slice(0, 200), report: snap }]);
      if (values.summary) process.stderr.write(renderSummary(snap));
      if (learn) {
        const cacheDir = planAuto ? planCacheDir() : undefined;
        const n = recordLearned(snap, { file: values.learn as string | undefined, cacheDir });
        const where = [values.learn as string | undefined, cacheDir && `the plan cache ${cacheDir}`].filter(Boolean).join(' and ');
        const unv = n.unverified ? ` (${n.unverified} failed verification: kept as learned-unverified, never rewritten ahead of time)` : '';
        process.stderr.write(`trapline: learned ${n.sites} site${n.sites === 1 ? '' : 's'} in ${n.modules} module${n.modules === 1 ? '' : 's'} into ${where}${unv}\n`);
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const msg = err.code && err.path ? `${err.path}: cannot write (${err.code})` : err.message;
      process.stderr.write(`${msg.startsWith('trapline: ') ? msg : `trapline: ${msg}`}\n`);
      failed = true;
    }
  }

  if (result.signal) {
    const signo = constants.signals[result.signal];
    if (result.signal !== 'SIGINT' && result.signal !== 'SIGPIPE') {
      const text = SIGNAL_TEXT[result.signal] ?? `Signal ${signo}`;
      const core = CORE_SIGNALS.has(result.signal) && coreDumpLikely() ? ' (core dumped)' : '';
      process.stderr.write(`${text}${core}\n`);
    }
    return 128 + signo;
  }
  return failed && result.code === 0 ? 1 : result.code ?? 1;
}

function cmdReport(args: string[]): number {
  const { values, rest } = parseOptions(args, { json: 'boolean', html: 'string' }, true);
  if (values.help) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (values.html !== undefined) {   // --html OUT.html FILE [FILE2]
    if (values.json) throw new UsageError('report: --json and --html exclude each other');
    if (values.html === '') throw new UsageError('--html: empty path');
    if (rest.length < 1 || rest.length > 2) throw new UsageError('report --html: expects one FILE, or two to compare (see trapline report --help)');
    const problem = values.html === '-' ? undefined : outputFileProblem(values.html as string);
    if (problem) throw new UsageError(`--html: ${values.html}: ${problem}`);
    writeHtmlReport(values.html as string, rest.map((f) => ({ label: f, report: loadReport(f) })));
    return 0;
  }
  if (rest.length !== 1) throw new UsageError('report: expects exactly one FILE (see trapline report --help)');
  const snap = loadReport(rest[0]!);
  process.stdout.write(values.json ? JSON.stringify(snap, null, 2) + '\n' : renderSummary(snap));
  return 0;
}

function cmdDoctor(args: string[]): number {
  const { values } = parseOptions(args, { json: 'boolean' }, false);
  if (values.help) {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const p = probe();
  process.stdout.write(values.json ? JSON.stringify(doctorJson(p), null, 2) + '\n' : doctorReport(p));
  return deriveMode(p).mode === 'unavailable' ? 1 : 0;
}

function cmdHelp(args: string[]): number {
  const topic = args[0];
  const text = topic === undefined ? USAGE : topic === 'run' ? RUN_USAGE : topic === 'doctor' ? DOCTOR_USAGE : topic === 'report' ? REPORT_USAGE : topic === 'scan' ? SCAN_USAGE : undefined;
  if (text === undefined) throw new UsageError(`no help for unknown command '${topic}'`);
  process.stdout.write(text);
  return 0;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  // `trapline report --json FILE | head -1`: when the reader goes away, stop quietly with
  // the status of a program killed by SIGPIPE (what a shell shows for `cat` there);
  // Node ignores SIGPIPE, so the write fails with EPIPE instead
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(128 + constants.signals.SIGPIPE);
    process.stderr.write(`trapline: cannot write the output (${e.code ?? e.message})\n`);
    process.exit(1);
  });
  const [command, ...args] = argv;
  switch (command) {
    case 'run':
      return cmdRun(args);
    case 'doctor':
      return cmdDoctor(args);
    case 'report':
      return cmdReport(args);
    case 'scan':
      return scanCommand(args);
    case 'help':
    case '-h':
    case '--help':
      return cmdHelp(args);
    case '--version':
      process.stdout.write(`trapline ${version()}\n`);
      return 0;
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    default:
      throw new UsageError(`unknown command '${command}' (see trapline --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${msg.startsWith('trapline: ') ? msg : `trapline: ${msg}`}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
