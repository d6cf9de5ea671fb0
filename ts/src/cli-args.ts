// Command-line parsing for the CLI's commands, on node:util parseArgs.
//
// parseArgs reads the whole argument list, and `trapline run [options] PROG ARGS...` must
// leave PROG's own arguments alone (`trapline run ls -l` passes -l to ls). So it runs
// non-strict with tokens, and the tokens are read up to the first positional argument or
// '--': what follows is PROG and its arguments, exactly as given (tokens after that point
// are ignored). Strictness is applied here, token by token, with the CLI's own messages.
import { parseArgs } from 'node:util';
import { TraplineError } from './errors.js';

/** A bad command line: reported as one line, exit status 2 (code ERR_TRAPLINE_USAGE). */
export class UsageError extends TraplineError {
  constructor(message: string) {
    super('ERR_TRAPLINE_USAGE', message);
    this.name = 'UsageError';
  }
}

/** Option name (without --) to its type ('strings': a string option that may be given
 *  several times, its values in order); -h/--help is always accepted. */
export type Spec = Record<string, 'string' | 'boolean' | 'strings'>;

/**
 * What a command takes besides options: 'program' (options end at '--' or at the first
 * argument that is not an option; that argument and all after it are returned as rest),
 * 'operands' (options and operands may mix; '--' ends options), or 'none'.
 */
export type Positionals = 'program' | 'operands' | 'none';

export interface Parsed {
  values: Record<string, string | boolean | string[]>;
  /** The program and its arguments ('program'), or the operands ('operands'). */
  rest: string[];
}

/** shorts: one-letter aliases of options of spec ({ e: 'expr' }: -e is --expr). */
export function parseCommand(args: string[], spec: Spec, positionals: Positionals, shorts: Record<string, string> = {}): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, type] of Object.entries(spec)) options[name] = type === 'strings' ? { type: 'string', multiple: true } : { type };
  for (const [short, name] of Object.entries(shorts)) if (options[name]) options[name].short = short;
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | string[]> = {};
  const rest: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') {
      const after = args.slice(t.index + 1);
      if (positionals === 'none' && after.length) throw new UsageError(`unexpected argument '${after[0]}'`);
      rest.push(...after);
      break;
    }
    if (t.kind === 'positional') {
      if (positionals === 'none') throw new UsageError(`unexpected argument '${t.value}'`);
      if (positionals === 'program') {
        rest.push(...args.slice(t.index));
        break;
      }
      rest.push(t.value);
      continue;
    }
    const type = options[t.name]?.type;
    if (type === undefined) throw new UsageError(`unknown option ${t.rawName}`);
    if (type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`option ${t.rawName} takes no value`);
      values[t.name] = true;
      continue;
    }
    if (t.value === undefined) throw new UsageError(`option ${t.rawName} needs a value`);
    // `--report -- prog`, `--stats --summary`: an option where the value should be
    if (!t.inlineValue && t.value.startsWith('-') && t.value !== '-') {
      throw new UsageError(`option ${t.rawName} needs a value, not '${t.value}' (write ${t.rawName}=${t.value} for a file named so)`);
    }
    if (options[t.name]?.multiple) ((values[t.name] ??= []) as string[]).push(t.value);
    else values[t.name] = t.value;
  }
  return { values, rest };
}
