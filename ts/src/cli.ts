#!/usr/bin/env node
// The command line: run, trace, report, doctor, setup, scan, help. `trapline run` starts the program with
// the API's launch (api.ts), naming options as flags (--hook, not options.hook).
import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { deriveMode, doctorJson, doctorReport } from './doctor.js';
import { probe } from './native.js';
import { packageRoot } from './paths.js';
import { effectivePlan, outputFileProblem } from './run.js';
import { loadReport, renderSummary } from './report.js';
import { launch, type Exit, type TraplineProcess } from './api.js';
import { TraplineError } from './errors.js';
import type { OptionNames } from './names.js';
import type { Mode, RewritePolicy } from './types.js';
import { parseCommand, UsageError } from './cli-args.js';
import { SCAN_USAGE, scanCommand } from './scan-cli.js';
import { writeHtmlReport } from './html/render.js';
import { launcherStatus, setup, SetupError, SETUP_USAGE } from './setup.js';
import { SETUP_DIR } from './paths.js';
import { formatExit, parseRuleExpressions, parseTraceArgs, TRACE_USAGE, type Rule, type TraceOptions } from './policy/index.js';
import { StracePrinter } from './trace-print.js';
import { closeSync, openSync, writeSync } from 'node:fs';

const USAGE = `usage: trapline <command> [options]

commands:
  run [--hook LIB] [--mode lazy|sud-only|eager] [--plan FILE|auto] [--learn FILE]
      [--rewrite all|verified|none] [--stats FILE [--stats-append]] [--no-follow-exec]
      [--entry first|preload] [--vdso on|off] [--allow-null-reads] [--report FILE.json]
      [--html OUT.html] [--summary] [--allow-uninterposed]
      [-e inject=...|deny=...|trace=...]... [--] PROG [ARGS...]
                   run PROG under the system-call interposer
  trace [-f] [-e trace=SET|inject=...|deny=...]... [--from MODULE] [-o FILE] [-s N]
      [-t|-tt|-ttt] [--lossy] [--] PROG [ARGS...]
                   trace PROG's system calls as strace does, at the interposer's speed
                   (and inject faults, deny calls, scoped to the module making them)
  report [--json] FILE
                   render a saved report (FILE.json) or statistics segment
  report --html OUT.html FILE [FILE2]
                   write the report as one self-contained HTML page; with FILE2, a page
                   comparing the two runs
  doctor [--json]  report what this machine supports and the mode a run will use
  setup [--dir DIR] [--undo]
                   (as root) give ordinary users' runs address 0: install the launcher
                   with the file capability cap_sys_rawio (docs/security.md)
  scan [--json] [--plan FILE|auto] [--all] FILE...
                   find and classify the syscall sites of ELF files; write plans
  help [COMMAND]   show help

Run 'trapline COMMAND --help' for a command's options.
`;

const RUN_USAGE = `usage: trapline run [options] [--] PROG [ARGS...]

Runs PROG (looked up in PATH) under trapline, entered at its first instruction (see
--entry; a --hook is loaded when its dynamic loader is done), and exits with its status; if
PROG is killed by a signal, reports it like a shell and exits with 128+signal.

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
  --entry WAY      first (default): enter PROG, and every program it execs, at its
                   first instruction (its dynamic loader's, or _start of a static
                   program), so every system call is seen; preload: from the preloaded
                   library's constructor (the loader's calls are not seen). For a
                   setuid program the preload way is always used
  --vdso on|off    off: hide the vDSO, so that clock_gettime, gettimeofday, time and
                   getcpu become real system calls, interposed and counted (needs
                   --entry first)
  --report FILE    after PROG exits, write the coverage report (JSON) to FILE
  --html FILE      after PROG exits, write the coverage report as one self-contained
                   HTML page to FILE (as 'trapline report --html'; see docs/report.md)
  --summary        after PROG exits, print per-syscall and per-module tables on stderr
  --allow-uninterposed
                   run PROG even if it is setuid or setgid: the loader ignores
                   LD_PRELOAD for such a program, so it runs without trapline (by
                   default it is refused); afterwards, say whether it was entered
  -e EXPR          a policy rule in strace's syntax (repeatable; docs/policies.md):
                   inject=SET:error=ERRNO|retval=N[:when=EXPR][:signal=SIG]
                   [:delay_enter=US][:delay_exit=US] makes calls fail or return N
                   without being performed; deny=SET[:error=ERRNO|:kill] fails them
                   (EPERM by default) or kills the process with SIGSYS; trace=SET
                   prints the calls on standard error, one line each as strace does
  -h, --help       show this help

Options end at '--' or at the first argument that is not an option.
`;

const TRACE_HELP = `${TRACE_USAGE}

Runs PROG under trapline and prints its system calls (every process and thread, from the
first instruction) one line each as strace does, on standard error or into -o FILE; exits
with PROG's status. The calls are recorded by the interposer into shared memory and
formatted here, so a traced call costs a fraction of what it costs under strace, and
rules can be limited to the code that makes the calls (--from). docs/policies.md.
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
reports the mode a run will use; then whether the launcher 'trapline setup' installs
has its capability, and the mode an ordinary user's run will use. Exits 0 if a run is
possible, 1 otherwise.

options:
  --json           print the raw probe and the derived mode as JSON
  -h, --help       show this help
`;

const HELP_USAGE = `usage: trapline help [COMMAND]

Shows the commands, or the options of COMMAND (run, trace, report, doctor, setup, scan, help): the
same text as 'trapline COMMAND --help'.

options:
  -h, --help       show this help
`;

/** `trapline run`'s flags for the launch options, as its messages name them: the flag, and
 *  how to give it. */
const RUN_FLAGS: Record<string, [string, string]> = {
  program: ['PROG', 'PROG'], hook: ['--hook', '--hook LIB'], mode: ['--mode', '--mode MODE'], plan: ['--plan', '--plan FILE|auto'],
  learn: ['--learn', '--learn FILE'], rewrite: ['--rewrite', '--rewrite POLICY'], statsFile: ['--stats', '--stats FILE'],
  statsAppend: ['--stats-append', '--stats-append'], followExec: ['--no-follow-exec', '--no-follow-exec'],
  allowNullReads: ['--allow-null-reads', '--allow-null-reads'], allowUninterposed: ['--allow-uninterposed', '--allow-uninterposed'],
  entry: ['--entry', '--entry first|preload'], vdso: ['--vdso', '--vdso on|off'],
  env: ['environment', 'environment'], processEnv: ['environment', 'environment'], report: ['--report', '--report FILE'],
  trace: ['-e', '-e trace=SET'], inject: ['-e', '-e inject=...'], deny: ['-e', '-e deny=...'],
};
const RUN_NAMES: OptionNames = (key, form) => RUN_FLAGS[key]?.[form === 'usage' ? 1 : 0] ?? key;
/** `trapline trace` launches with no launch options of its own: its errors name PROG and -e. */
const TRACE_NAMES: OptionNames = RUN_NAMES;

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

/** A run's exit status as a shell gives it: the program's, or 128+signal (said like a shell). */
function shellStatus(exit: Exit): number | undefined {
  if (!exit.signal) return exit.code ?? undefined;
  const signo = constants.signals[exit.signal];
  if (exit.signal !== 'SIGINT' && exit.signal !== 'SIGPIPE') {
    const text = SIGNAL_TEXT[exit.signal] ?? `Signal ${signo}`;
    const core = CORE_SIGNALS.has(exit.signal) && coreDumpLikely() ? ' (core dumped)' : '';
    process.stderr.write(`${text}${core}\n`);
  }
  return 128 + signo;
}

/** One line on stderr for an error, prefixed "trapline: " once. */
function say(e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  const msg = err.code && err.path ? `${err.path}: cannot write (${err.code})` : err instanceof Error ? err.message : String(e);
  process.stderr.write(`${msg.startsWith('trapline: ') ? msg : `trapline: ${msg}`}\n`);
}

/** strace's last line for the program: how it ended. */
function exitLine(exit: Exit, pid: number, options: TraceOptions, file: boolean): string {
  const end = exit.signal ? { signal: constants.signals[exit.signal], core: coreDumpLikely() } : { exited: exit.code ?? 0 };
  const now = BigInt(Date.now()) * 1000000n;
  return `${formatExit(pid, end, options, now, { prefix: file ? 'column' : 'none' })}\n`;
}

async function cmdTrace(args: string[]): Promise<number> {
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write(TRACE_HELP);
    return 0;
  }
  const t = parseTraceArgs(args);
  let fd = 2;
  if (t.output !== undefined) {
    const problem = outputFileProblem(t.output);
    if (problem) throw new UsageError(`-o: ${t.output}: ${problem}`);
    fd = openSync(t.output, 'w', 0o644);
  }
  try {
    // the records are printed as they are read, in batches (one write per poll's worth)
    const printer = new StracePrinter(t.options, fd, coreDumpLikely());
    const h = launch(TRACE_NAMES, t.program, t.args, {}, { rules: t.rules, trace: t.options, sink: printer });
    const exit = await waitForeground(h, t.program);
    await printer.done.catch((e: unknown) => { say(e); });
    if (typeof exit === 'number') return exit;
    // a call that killed the program has printed its end (`+++ killed by SIGSYS +++`)
    const line = printer.ended(h.pid ?? 0) ? '' : exitLine(exit, h.pid ?? 0, t.options, fd !== 2);
    if (fd === 2) process.stderr.write(line); else writeSync(fd, line);
    if (exit.failure) say(exit.failure);
    return shellStatus(exit) ?? 1;
  } finally {
    if (fd !== 2) closeSync(fd);
  }
}

async function cmdRun(args: string[]): Promise<number> {
  const { values, rest } = parseCommand(args, {
    hook: 'string', mode: 'string', plan: 'string', learn: 'string', rewrite: 'string', stats: 'string',
    'no-follow-exec': 'boolean', entry: 'string', vdso: 'string', report: 'string', html: 'string', summary: 'boolean', 'allow-null-reads': 'boolean', 'stats-append': 'boolean', 'allow-uninterposed': 'boolean',
    expr: 'strings',
  }, 'program', { e: 'expr' });
  if (values.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const [program, ...progArgs] = rest;
  if (program === undefined) throw new UsageError('run: no program given (see trapline run --help)');
  const str = (k: string) => values[k] as string | undefined;
  const report = str('report');
  const summary = values.summary === true;
  const allowUninterposed = values['allow-uninterposed'] === true;
  // the report is written after the run: checked now, before the program starts (the
  // launch options, --learn included, are checked by launch)
  if (report !== undefined) {
    if (report === '') throw new UsageError(`${RUN_NAMES('report')}: must be a non-empty path`);
    const problem = outputFileProblem(report);
    if (problem) throw new UsageError(`${RUN_NAMES('report')}: ${report}: ${problem}`);
  }
  const html = str('html');
  if (html === '') throw new UsageError('--html: must be a non-empty path');
  if (html !== undefined && html !== '-') {   // checked like --report
    const problem = outputFileProblem(html);
    if (problem) throw new UsageError(`--html: ${html}: ${problem}`);
  }
  const learn = str('learn') !== undefined || effectivePlan(str('mode'), str('plan')) === 'auto';
  // --report/--html/--summary/--learn need a segment: the one given with --stats, or a
  // temporary one; with --allow-uninterposed it says whether the program was entered
  const needStats = report !== undefined || html !== undefined || summary || learn || allowUninterposed;
  // -e rules: checked now, before the program starts; a trace= rule prints on stderr
  const exprs = (values.expr as string[] | undefined) ?? [];
  const rules: Rule[] = exprs.length ? parseRuleExpressions(exprs) : [];
  const traceOptions: TraceOptions | undefined = rules.some((r) => r.action === 'trace')
    ? { strsize: 32, lossy: false, timestamps: 'none', follow: true } : undefined;
  const printer = traceOptions ? new StracePrinter(traceOptions, 2, coreDumpLikely()) : undefined;
  const h = launch(RUN_NAMES, program, progArgs, {
    hook: str('hook'),
    mode: str('mode') as Mode | undefined,
    plan: str('plan'),
    learn: str('learn'),
    rewrite: str('rewrite') as RewritePolicy | undefined,
    stats: needStats || str('stats') !== undefined,
    statsFile: str('stats'),
    statsAppend: values['stats-append'] ? true : undefined,
    followExec: values['no-follow-exec'] ? false : undefined,
    entry: str('entry') as 'first' | 'preload' | undefined,
    vdso: str('vdso') as 'on' | 'off' | undefined,
    allowNullReads: values['allow-null-reads'] ? true : undefined,
    allowUninterposed,
  }, rules.length ? { rules, ...(traceOptions ? { trace: traceOptions, sink: printer } : {}) } : undefined);
  const exit = await waitForeground(h, program);
  await printer?.done.catch((e: unknown) => { say(e); });
  if (typeof exit === 'number') return exit;

  // a report, summary or plan that could not be made fails the run (status 1 if the
  // program itself succeeded), with one line
  let failed = exit.failure !== undefined;
  if (exit.failure) say(exit.failure);
  // A program trapline could not enter (the loader ignored LD_PRELOAD) left no process in
  // the statistics: say so, and never report it as interposed.
  if (needStats && exit.interposed === false && !exit.failure) {
    process.stderr.write(`trapline: ${program} was not interposed: no process joined the statistics (the loader ignored LD_PRELOAD: setuid/setgid, or file capabilities)\n`);
    if (report !== undefined) {
      try { writeFileSync(report, JSON.stringify({ interposed: false, program }, null, 2) + '\n'); } catch (e) { say(e); failed = true; }
    }
  }
  if (exit.interposed && exit.coverage) {
    try {
      if (report !== undefined) writeFileSync(report, JSON.stringify(exit.coverage, null, 2) + '\n');
      if (html !== undefined) writeHtmlReport(html, [{ label: [program, ...progArgs].join(' ').slice(0, 200), report: exit.coverage }]);
      if (summary) process.stderr.write(renderSummary(exit.coverage));
    } catch (e) {
      say(e);
      failed = true;
    }
  }
  const n = exit.learned;
  if (n) {
    const where = [n.file, n.cacheDir && `the plan cache ${n.cacheDir}`].filter(Boolean).join(' and ');
    const unv = n.unverified ? ` (${n.unverified} failed verification: kept as learned-unverified, never rewritten ahead of time)` : '';
    process.stderr.write(`trapline: learned ${n.sites} site${n.sites === 1 ? '' : 's'} in ${n.modules} module${n.modules === 1 ? '' : 's'} into ${where}${unv}\n`);
  }
  const status = shellStatus(exit);
  return failed && status === 0 ? 1 : status ?? 1;
}

/**
 * Waits for the program like a shell for a foreground job: the terminal signals the
 * child's process group itself, so SIGINT/SIGQUIT are ignored here; the ones sent to us
 * alone are passed on. Returns the Exit (with failure: what went wrong after the program
 * ran, its exit kept), or the status for a program that could not be started.
 */
async function waitForeground(h: TraplineProcess, program: string): Promise<(Exit & { failure?: TraplineError }) | number> {
  const ignore = () => {};
  const forward = (sig: NodeJS.Signals) => h.child.kill(sig);
  process.on('SIGINT', ignore).on('SIGQUIT', ignore).on('SIGTERM', forward).on('SIGHUP', forward);
  try {
    return await h.exited;
  } catch (e) {
    if (e instanceof TraplineError && e.exit) return { ...e.exit, failure: e };
    const err = e as NodeJS.ErrnoException;
    const notFound = err.code === 'ENOENT';
    process.stderr.write(`trapline: ${program}: ${notFound ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message}\n`);
    return notFound ? 127 : 126;
  } finally {
    process.off('SIGINT', ignore).off('SIGQUIT', ignore).off('SIGTERM', forward).off('SIGHUP', forward);
  }
}

function cmdReport(args: string[]): number {
  const { values, rest } = parseCommand(args, { json: 'boolean', html: 'string' }, 'program');
  if (values.help) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (values.html !== undefined) {   // --html OUT.html FILE [FILE2]
    const out = values.html as string;
    if (values.json) throw new UsageError('report: --json and --html exclude each other');
    if (out === '') throw new UsageError('--html: must be a non-empty path');
    if (rest.length < 1 || rest.length > 2) throw new UsageError('report --html: expects one FILE, or two to compare (see trapline report --help)');
    const problem = out === '-' ? undefined : outputFileProblem(out);
    if (problem) throw new UsageError(`--html: ${out}: ${problem}`);
    writeHtmlReport(out, rest.map((f) => ({ label: f, report: loadReport(f) })));
    return 0;
  }
  if (rest.length !== 1) throw new UsageError('report: expects exactly one FILE (see trapline report --help)');
  const snap = loadReport(rest[0]!);
  process.stdout.write(values.json ? JSON.stringify(snap, null, 2) + '\n' : renderSummary(snap));
  return 0;
}

function cmdSetup(args: string[]): number {
  const { values } = parseCommand(args, { dir: 'string', undo: 'boolean' }, 'none');
  if (values.help) {
    process.stdout.write(SETUP_USAGE);
    return 0;
  }
  const dir = values.dir as string | undefined;
  if (dir === '') throw new UsageError('--dir: must be a non-empty path');
  try {
    process.stdout.write(setup(dir ?? SETUP_DIR, values.undo === true));
    return 0;
  } catch (e) {
    if (e instanceof SetupError) {
      process.stderr.write(`trapline setup: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`trapline setup: ${err.message.split('\n')[0]}\n`);
    return 1;
  }
}

function cmdDoctor(args: string[]): number {
  const { values } = parseCommand(args, { json: 'boolean' }, 'none');
  if (values.help) {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const p = probe();
  const l = launcherStatus();
  process.stdout.write(values.json ? JSON.stringify(doctorJson(p, l), null, 2) + '\n' : doctorReport(p, l));
  return deriveMode(p).mode === 'unavailable' ? 1 : 0;
}

const HELP: Record<string, string> = { run: RUN_USAGE, trace: TRACE_HELP, report: REPORT_USAGE, doctor: DOCTOR_USAGE, setup: SETUP_USAGE, scan: SCAN_USAGE, help: HELP_USAGE };

function cmdHelp(args: string[]): number {
  const { values, rest } = parseCommand(args, {}, 'operands');
  if (values.help) {
    process.stdout.write(HELP_USAGE);
    return 0;
  }
  if (rest.length > 1) throw new UsageError(`help: expects at most one COMMAND, not ${rest.length} (see trapline help --help)`);
  const topic = rest[0];
  const text = topic === undefined ? USAGE : Object.hasOwn(HELP, topic) ? HELP[topic] : undefined;
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
    case 'trace':
      return cmdTrace(args);
    case 'doctor':
      return cmdDoctor(args);
    case 'setup':
      return cmdSetup(args);
    case 'report':
      return cmdReport(args);
    case 'scan':
      return scanCommand(args);
    case 'help':
      return cmdHelp(args);
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
    // a bad command line or launch option: 2; anything else (an unreadable report, ...): 1
    const code = e instanceof TraplineError ? e.code : undefined;
    process.exitCode = code === 'ERR_TRAPLINE_USAGE' || code === 'ERR_TRAPLINE_OPTION' ? 2 : 1;
  },
);
