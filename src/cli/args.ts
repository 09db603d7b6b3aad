/**
 * A small, strict command-line parser: `--name value`, `--name=value`, boolean `--flag`, positionals,
 * and `--` ending options (everything after it is kept verbatim, for `run -- COMMAND ...`).
 * Unknown options are errors: a typo must never silently fall back to a default.
 */

export interface OptionSpec {
  readonly name: string;
  /** Takes a value (`--arch x86_64`); otherwise a boolean flag. */
  readonly value?: boolean;
  /** May be given more than once; values accumulate. */
  readonly repeat?: boolean;
  readonly short?: string;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Everything after a bare `--`. */
  readonly rest: readonly string[];
  readonly options: ReadonlyMap<string, readonly string[]>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s] as const));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s] as const));
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  const record = (spec: OptionSpec, value: string): void => {
    const seen = options.get(spec.name) ?? [];
    if (seen.length > 0 && !spec.repeat) throw new UsageError(`option --${spec.name} given more than once`);
    options.set(spec.name, [...seen, value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return { positionals, rest: argv.slice(i + 1), options };
    // A negative number (`-100`, an AT_FDCWD argument) is a value, never an option.
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const [key, inline] = long ? splitOnce(arg.slice(2), '=') : [arg.slice(1), undefined];
    const spec = long ? byName.get(key) : byShort.get(key);
    if (spec === undefined) throw new UsageError(`unknown option ${arg}`);
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`option --${spec.name} takes no value`);
      record(spec, 'true');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option --${spec.name} needs a value`);
    record(spec, value);
  }
  return { positionals, rest: [], options };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** The single value of an option, or undefined when absent. */
export function optionValue(args: ParsedArgs, name: string): string | undefined {
  return args.options.get(name)?.at(-1);
}

export function optionValues(args: ParsedArgs, name: string): readonly string[] {
  return args.options.get(name) ?? [];
}

export function hasFlag(args: ParsedArgs, name: string): boolean {
  return args.options.has(name);
}

/** The positional at `index`, or a usage error naming what is missing. */
export function requirePositional(args: ParsedArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
}
