// coverage: runs a program under trapline (optionally with a hook) and prints how its
// system calls were interposed: the exit status, calls by path, the busiest calls and
// where the call sites are.
//
//   node coverage.js [--hook LIB] [--mode lazy|sud-only|eager] [--top N] -- PROG [ARGS...]
//
// Built with tsc like any TypeScript (examples/README.md); it imports the package by its
// name, 'trapline'.
import { parseArgs } from 'node:util';
import { nrName, OptionError, run, type Exit, type Mode, type StatsSnapshot } from 'trapline';

const USAGE = 'usage: node coverage.js [--hook LIB] [--mode lazy|sud-only|eager] [--top N] -- PROG [ARGS...]';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padStart(widths[i]!))).join('  ')).join('\n');
}

function summary(program: string, exit: Exit, s: StatsSnapshot, top: number): string {
  const calls = s.total.trap + s.total.fast;
  const fast = calls ? ((100 * s.total.fast) / calls).toFixed(1) : '0.0';
  const busiest = [...s.perNr].sort((a, b) => b.trap + b.fast - (a.trap + a.fast) || a.nr - b.nr).slice(0, top);
  const byModule = new Map<string, number>();
  for (const site of s.sites) {
    const path = site.module === null ? '(unknown)' : s.modules[site.module]!.path || '[anonymous memory]';
    byModule.set(path, (byModule.get(path) ?? 0) + 1);
  }
  return [
    `${program}: ${exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`}`,
    `mode ${s.mode}, ${s.processes} process(es), ${calls} calls interposed, ${fast}% by the rewritten fast path${s.hookLoaded ? ', hook loaded' : ''}`,
    `${s.sites.length} sites: ${s.sitesRewritten} rewritten, ${s.sitesTrapping} trapping, ${s.sitesStale} stale`,
    'busiest calls:',
    table([['calls', 'errors', 'syscall'], ...busiest.map((n) => [String(n.trap + n.fast), String(n.errors), nrName(n.nr)])]),
    'sites by module:',
    table([['sites', 'module'], ...[...byModule].sort((a, b) => b[1] - a[1]).map(([path, n]) => [String(n), path])]),
  ].join('\n') + '\n';
}

const { values, positionals } = parseArgs({
  options: { hook: { type: 'string' }, mode: { type: 'string' }, top: { type: 'string', default: '5' } },
  allowPositionals: true,
});
const [program, ...args] = positionals;
const top = Number(values.top);
if (program === undefined || !Number.isInteger(top) || top < 1) {
  console.error(USAGE);
  process.exit(2);
}

try {
  const exit = await run(program, args, { hook: values.hook, mode: values.mode as Mode | undefined });
  if (exit.coverage) process.stdout.write(summary(program, exit, exit.coverage, top));
  else console.log(`${program}: not interposed (the loader ignored LD_PRELOAD)`);
  process.exitCode = exit.code ?? 1;
} catch (e) {
  // a bad option (OptionError) is the caller's mistake: one line, status 2
  if (!(e instanceof OptionError)) throw e;
  console.error(`coverage: ${e.message}`);
  process.exitCode = 2;
}
