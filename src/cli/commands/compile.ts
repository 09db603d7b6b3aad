/**
 * `sysfence compile POLICY --arch ARCH --format bpf|c -o FILE`: policy (sysfence YAML/JSON or OCI/Docker
 * JSON) → one seccomp program covering every ABI the policy lists for that kernel architecture.
 */
import { writeFileSync } from 'node:fs';
import { compile, formatC } from '../../bpf/compiler.js';
import { encodeProgram } from '../../bpf/insn.js';
import { loadAnyPolicy } from '../../formats/load.js';
import { POLICY_LOAD_OPTIONS, POLICY_LOAD_USAGE, policyLoadOptions } from '../load-options.js';
import { applyMode, parseMode } from '../../policy/modes.js';
import type { Arch } from '../../syscalls/arch.js';
import { archOrHost } from '../arch-option.js';
import { optionValue, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { readProfileCounts } from '../profile-counts.js';

const USAGE = `usage: sysfence compile POLICY [--arch ARCH] [--format bpf|c] [-o FILE] [--mode enforce|log|tiered]
                        [--profile COUNTS.json] [--caps CAP,...] [--kernel X.Y] [--unknown-action A]

Compiles POLICY (sysfence YAML/JSON, or OCI/Docker seccomp JSON) into one classic-BPF seccomp program for
a kernel of ARCH (default: this machine's), covering every ABI the policy lists that such a kernel runs.
  --format bpf   raw struct sock_filter array, 8 bytes per instruction, target byte order (default)
  --format c     a C array and struct sock_fprog, for other loaders
  -o FILE        where to write (default: stdout for c; required for bpf)
  --profile F    JSON object {syscall: count}: hot syscalls get shorter paths
${POLICY_LOAD_USAGE}Prints statistics (instructions, cacheable syscalls per ABI) and warnings to stderr.
`;

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const path = requirePositional(args, 0, 'POLICY');
  const arch = archOrHost(args);
  const format = optionValue(args, 'format') ?? 'bpf';
  if (format !== 'bpf' && format !== 'c') throw new UsageError(`unknown format '${format}' (bpf or c)`);
  const output = optionValue(args, 'output');
  if (format === 'bpf' && output === undefined) throw new UsageError('--format bpf needs -o FILE');

  const loaded = await loadAnyPolicy(path, policyLoadOptions(args));
  const policy = applyMode(loaded.policy, parseMode(optionValue(args, 'mode') ?? 'enforce'));
  const profilePath = optionValue(args, 'profile');
  const profile = profilePath === undefined ? undefined : readProfileCounts(profilePath);
  const result = compile(policy, { arch, profile });

  const bytes =
    format === 'bpf' ? encodeProgram(result.program, result.bigEndian) : formatC(result, 'sysfence_filter');
  if (output === undefined) io.stdout(bytes.toString());
  else writeFileSync(output, bytes);

  for (const warning of [...loaded.warnings, ...result.warnings]) io.stderr(`warning: ${warning}\n`);
  io.stderr(summary(result.stats.instructions, result.abis, result.stats.cacheable, output));
  return 0;
}

function summary(
  instructions: number,
  abis: readonly Arch[],
  cacheable: readonly { abi: Arch; syscalls: readonly string[] }[],
  output: string | undefined,
): string {
  const cache = cacheable.map((c) => `${c.abi} ${c.syscalls.length}`).join(', ');
  const where = output === undefined ? '' : ` -> ${output}`;
  return `compiled ${instructions} instructions for ${abis.join(', ')}${where}; cacheable allowed syscalls: ${cache}\n`;
}

export const compileCommand: Command = {
  name: 'compile',
  summary: 'compile a policy into a seccomp-BPF program (raw or C)',
  usage: USAGE,
  options: [
    { name: 'format', value: true },
    { name: 'output', short: 'o', value: true },
    { name: 'mode', value: true },
    { name: 'profile', value: true },
    ...POLICY_LOAD_OPTIONS,
  ],
  run,
};
