/**
 * `sysfence convert IN --to oci|yaml [-o FILE]`: between sysfence policies and OCI / Docker seccomp
 * profiles. Input of either format is detected; Docker's includes/excludes are decided for --arch,
 * --caps and --kernel. Everything the conversion cannot carry exactly is printed as `warning:` lines;
 * what the target would enforce more weakly is an error and nothing is written.
 */
import { writeFileSync } from 'node:fs';
import { DOCKER_DEFAULT_CAPS, normalizeCapability } from '../../formats/docker-caps.js';
import { loadAnyPolicy } from '../../formats/load.js';
import { exportOci, policyToYaml } from '../../formats/oci.js';
import { parseActionText } from '../../policy/action-text.js';
import type { Action } from '../../policy/action.js';
import { archOrHost } from '../arch-option.js';
import { optionValue, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';

const USAGE = `usage: sysfence convert IN --to oci|yaml [-o FILE] [--arch ARCH] [--caps CAP,...] [--kernel X.Y]
                        [--unknown-action ACTION]

Converts IN (a sysfence policy, or an OCI / Docker seccomp profile) to:
  --to oci    an OCI linux.seccomp object (JSON) for runc, crun, Docker, Podman, containerd
  --to yaml   a sysfence policy (YAML)
Options for OCI / Docker input (how runc and Docker would read it on a given host):
  --arch ARCH            the native architecture (default: this machine's)
  --caps CAP,...         the container's capability set (default: Docker's default set); the word
                         'default' stands for that set, e.g. --caps default,CAP_SYS_ADMIN
  --kernel X.Y           kernel version for minKernel (default: this machine's)
  --unknown-action A     action for syscall numbers sysfence does not know (default: defaultAction)
  -o FILE                where to write (default: stdout)
Warnings go to stderr, prefixed 'warning:'.
`;

/** --caps: comma-separated, CAP_ optional, 'default' expands to Docker's default set. */
function parseCaps(text: string | undefined): readonly string[] | undefined {
  if (text === undefined) return undefined;
  const caps = new Set<string>();
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    if (item.toLowerCase() === 'default') {
      DOCKER_DEFAULT_CAPS.forEach((cap) => caps.add(cap));
      continue;
    }
    const cap = normalizeCapability(item);
    if (cap === undefined) throw new UsageError(`'${item}' is not a capability name`);
    caps.add(cap);
  }
  return [...caps];
}

function parseKernel(text: string | undefined): string | undefined {
  if (text !== undefined && !/^\d+\.\d+/.test(text))
    throw new UsageError(`--kernel wants X.Y, not '${text}'`);
  return text;
}

function parseUnknownAction(text: string | undefined): Action | undefined {
  return text === undefined ? undefined : parseActionText(text);
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const input = requirePositional(args, 0, 'IN');
  const target = optionValue(args, 'to');
  if (target !== 'oci' && target !== 'yaml') throw new UsageError('--to must be oci or yaml');
  const loaded = await loadAnyPolicy(input, {
    arch: archOrHost(args),
    caps: parseCaps(optionValue(args, 'caps')),
    kernelVersion: parseKernel(optionValue(args, 'kernel')),
    unknownAction: parseUnknownAction(optionValue(args, 'unknown-action')),
  });
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
  options: [
    { name: 'to', value: true },
    { name: 'output', short: 'o', value: true },
    { name: 'arch', value: true },
    { name: 'caps', value: true },
    { name: 'kernel', value: true },
    { name: 'unknown-action', value: true },
  ],
  run,
};
