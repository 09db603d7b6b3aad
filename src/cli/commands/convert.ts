/**
 * `sysfence convert IN --to oci|yaml [-o FILE]`: between sysfence policies and OCI / Docker seccomp
 * profiles. Input of either format is detected; Docker's includes/excludes are decided for --arch,
 * --caps and --kernel. Everything the conversion cannot carry exactly is printed as `warning:` lines;
 * what the target would enforce more weakly is an error and nothing is written.
 */
import { writeFileSync } from 'node:fs';
import { loadAnyPolicy } from '../../formats/load.js';
import { POLICY_LOAD_OPTIONS, POLICY_LOAD_USAGE, policyLoadOptions } from '../load-options.js';
import { exportOci, policyToYaml } from '../../formats/oci.js';
import { optionValue, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';

const USAGE = `usage: sysfence convert IN --to oci|yaml [-o FILE] [--arch ARCH] [--caps CAP,...] [--kernel X.Y]
                        [--unknown-action ACTION]

Converts IN (a sysfence policy, or an OCI / Docker seccomp profile) to:
  --to oci    an OCI linux.seccomp object (JSON) for runc, crun, Docker, Podman, containerd
  --to yaml   a sysfence policy (YAML)
${POLICY_LOAD_USAGE}  -o FILE                where to write (default: stdout)
Warnings go to stderr, prefixed 'warning:'.
`;

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const input = requirePositional(args, 0, 'IN');
  const target = optionValue(args, 'to');
  if (target !== 'oci' && target !== 'yaml') throw new UsageError('--to must be oci or yaml');
  const loaded = await loadAnyPolicy(input, policyLoadOptions(args));
  const converted =
    target === 'oci' ? exportOci(loaded.policy) : { json: policyToYaml(loaded.policy), warnings: [] };
  for (const warning of [...loaded.warnings, ...converted.warnings]) io.stderr(`warning: ${warning}\n`);
  const output = optionValue(args, 'output');
  if (output === undefined) io.stdout(converted.json);
  else writeFileSync(output, converted.json);
  return 0;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert between sysfence policies and OCI / Docker seccomp profiles',
  usage: USAGE,
  options: [{ name: 'to', value: true }, { name: 'output', short: 'o', value: true }, ...POLICY_LOAD_OPTIONS],
  run,
};
