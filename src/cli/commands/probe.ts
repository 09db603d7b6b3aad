/** `sysfence probe [--json]`: what this kernel offers for seccomp, Landlock, audit, BPF and cgroups. */
import { formatProbeTable, probeKernel } from '../../enforce/probe.js';
import { hasFlag, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';

const USAGE = `usage: sysfence probe [--json]

Reports what this kernel offers: seccomp actions available and logged, the seccomp action cache, the
Landlock ABI, audit status (and whether auditd runs), bpftrace/BTF and tracefs, the cgroup version and
freezer, and x32 / ia32 emulation. Each finding names its evidence.
  --json   machine-readable output
`;

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const probe = probeKernel();
  io.stdout(hasFlag(args, 'json') ? `${JSON.stringify(probe, null, 2)}\n` : formatProbeTable(probe));
  return 0;
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'report what this kernel offers (seccomp, Landlock, audit, BPF, cgroups, compat ABIs)',
  usage: USAGE,
  options: [{ name: 'json' }],
  run,
};
