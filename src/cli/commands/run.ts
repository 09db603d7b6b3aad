/**
 * `sysfence run --policy POLICY [--mode enforce|log|tiered] [--require-landlock-abi N] -- COMMAND ARGS...`:
 * runs COMMAND under the compiled policy (seccomp) and its filesystem/network sections (Landlock).
 * Exit status: COMMAND's own; 128+N when a signal N ended it; 125 when sysfence could not start it;
 * 2 for bad usage or input (nothing was started).
 */
import { exitCodeOf, launch, preparePolicyRun } from '../../enforce/run.js';
import { parseMode } from '../../policy/modes.js';
import { optionValue, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';

const USAGE = `usage: sysfence run --policy POLICY [--mode enforce|log|tiered] [--require-landlock-abi N] -- COMMAND [ARGS...]

Runs COMMAND confined by POLICY (sysfence YAML/JSON, or OCI/Docker seccomp JSON): the policy's seccomp
filter (installed with no_new_privs, TSYNC and LOG, so non-allow actions reach the audit log) and, when the
policy has filesystem/network sections, a Landlock ruleset. COMMAND replaces the launcher (same pid).
  --mode enforce   the policy as written (default)
  --mode log       every deny/kill action becomes LOG: nothing breaks, everything unexpected is audited
  --mode tiered    rules of tier 'tolerated' are allowed and logged; the rest as written
  --require-landlock-abi N
                   refuse to run on a kernel whose Landlock ABI is older than N, instead of printing
                   which rules are not enforced
Exit status: COMMAND's; 128+N if signal N ended it; 125 if sysfence could not start it; 2 on bad input.
`;

function parseAbiOption(args: ParsedArgs): number | undefined {
  const text = optionValue(args, 'require-landlock-abi');
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text))
    throw new UsageError(`--require-landlock-abi takes a version number, not '${text}'`);
  return Number(text);
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const policyPath = optionValue(args, 'policy');
  if (policyPath === undefined) throw new UsageError('missing --policy POLICY');
  if (args.positionals.length > 0) {
    throw new UsageError(`put the command after '--' (got '${args.positionals.join(' ')}' before it)`);
  }
  if (args.rest.length === 0) throw new UsageError('missing COMMAND after --');
  let mode;
  try {
    mode = parseMode(optionValue(args, 'mode') ?? 'enforce');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const prepared = await preparePolicyRun({
    policyPath,
    mode,
    command: args.rest,
    requireLandlockAbi: parseAbiOption(args),
  });
  prepared.notices.forEach((line) => io.stderr(`${line}\n`));
  const status = await launch(prepared.plan);
  if (status.kind === 'launch-failed') io.stderr(`sysfence: error: ${status.failure.message}\n`);
  return exitCodeOf(status);
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run a command under a policy (seccomp + Landlock)',
  usage: USAGE,
  options: [
    { name: 'policy', value: true },
    { name: 'mode', value: true },
    { name: 'require-landlock-abi', value: true },
  ],
  run,
};
