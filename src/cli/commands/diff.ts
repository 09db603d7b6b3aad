/**
 * `sysfence diff A B`: what changes, per ABI, between the compiled filters of two policies (any format
 * loadAnyPolicy reads). Exit 0 when they decide identically, 1 when they differ, 2 on bad input.
 */
import { diffPolicies, formatDiffEntry, type DiffEntry } from '../../bpf/diff.js';
import { loadAnyPolicy } from '../../formats/load.js';
import { formatAction } from '../../policy/action.js';
import { errnoName } from '../../syscalls/errno.js';
import { optionValue, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { archOrHost } from '../arch-option.js';

const USAGE = `usage: sysfence diff A B [--arch ARCH] [--format text|json]

Compiles policies A and B (sysfence YAML/JSON or OCI/Docker seccomp JSON, in any mix) for a kernel of
ARCH (default: this machine's) and reports, per ABI, every syscall (and argument range) whose action
differs between the two filters, e.g.
  x86_64 ptrace: errno(EPERM) -> kill_process
  x86_64 socket(arg0=16): allow -> errno(EAFNOSUPPORT)
The comparison runs the compiled programs, so policies written differently but deciding alike diff empty.
Exit status: 0 identical, 1 different, 2 a policy could not be read or compiled.
`;

type OutputFormat = 'text' | 'json';

function parseFormat(args: ParsedArgs): OutputFormat {
  const text = optionValue(args, 'format') ?? 'text';
  if (text !== 'text' && text !== 'json') throw new UsageError(`unknown format '${text}' (text or json)`);
  return text;
}

/** An entry as plain JSON: actions in policy spelling, argument values as decimal strings (they exceed 2^53). */
function entryJson(entry: DiffEntry): Record<string, unknown> {
  return {
    abi: entry.abi,
    subject: entry.subject,
    ...(entry.syscall === undefined ? {} : { syscall: entry.syscall }),
    numbers: entry.numbers,
    before: formatAction(entry.before, errnoName),
    after: formatAction(entry.after, errnoName),
    ...(entry.args === undefined
      ? {}
      : {
          args: entry.args.map((region) =>
            region.map(({ index, from, to }) => ({ index, from: from.toString(), to: to.toString() })),
          ),
        }),
    ...(entry.examples === true ? { examples: true } : {}),
    ...(entry.omittedRegions === undefined ? {} : { omittedRegions: entry.omittedRegions }),
  };
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const pathA = requirePositional(args, 0, 'policy A');
  const pathB = requirePositional(args, 1, 'policy B');
  if (args.positionals.length > 2) throw new UsageError('diff takes two policies');
  const format = parseFormat(args);
  const arch = archOrHost(args);
  const [a, b] = await Promise.all([loadAnyPolicy(pathA, { arch }), loadAnyPolicy(pathB, { arch })]);
  for (const warning of [...a.warnings, ...b.warnings]) io.stderr(`warning: ${warning}\n`);

  const entries = diffPolicies(a.policy, b.policy, { arch });
  if (format === 'json') io.stdout(`${JSON.stringify(entries.map(entryJson), null, 2)}\n`);
  else io.stdout(entries.map((entry) => `${formatDiffEntry(entry)}\n`).join(''));
  return entries.length === 0 ? 0 : 1;
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'semantic diff of two policies: per ABI, the syscalls and argument ranges whose action changed',
  usage: USAGE,
  options: [
    { name: 'arch', value: true },
    { name: 'format', value: true },
  ],
  run,
};
