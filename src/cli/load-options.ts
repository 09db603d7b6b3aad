/**
 * The options that say how an OCI/Docker profile is read (as runc and Docker would on a given host),
 * shared by every command that loads a policy of either format.
 */
import { DOCKER_DEFAULT_CAPS, normalizeCapability } from '../formats/docker-caps.js';
import type { LoadOptions } from '../formats/load.js';
import { parseActionText } from '../policy/action-text.js';
import type { Action } from '../policy/action.js';
import { archOrHost } from './arch-option.js';
import { optionValue, UsageError, type OptionSpec, type ParsedArgs } from './args.js';

export const POLICY_LOAD_OPTIONS: readonly OptionSpec[] = [
  { name: 'arch', value: true },
  { name: 'caps', value: true },
  { name: 'kernel', value: true },
  { name: 'unknown-action', value: true },
  { name: 'thread', value: true },
  { name: 'spo-profile', value: true },
];

export const POLICY_LOAD_USAGE = `Options for OCI / Docker input (how runc and Docker would read it on a given host):
  --arch ARCH            the native architecture (default: this machine's)
  --caps CAP,...         the container's capability set (default: Docker's default set); the word
                         'default' stands for that set, e.g. --caps default,CAP_SYS_ADMIN
  --kernel X.Y           kernel version for minKernel (default: this machine's)
  --unknown-action A     action for syscall numbers sysfence does not know (default: defaultAction)
Options for other input formats:
  --thread NAME          Firecracker: the thread whose filter to read (default: the first, with a warning)
  --spo-profile NAME     SPO: the SeccompProfile to read from a multi-profile file
`;

/** LoadOptions from --arch, --caps, --kernel, --unknown-action, --thread and --spo-profile. */
export function policyLoadOptions(args: ParsedArgs): LoadOptions {
  return {
    arch: archOrHost(args),
    caps: parseCaps(optionValue(args, 'caps')),
    kernelVersion: parseKernel(optionValue(args, 'kernel')),
    unknownAction: parseUnknownAction(optionValue(args, 'unknown-action')),
    thread: optionValue(args, 'thread'),
    spoProfile: optionValue(args, 'spo-profile'),
  };
}

/** --caps: comma-separated, CAP_ optional, 'default' expands to Docker's default set. */
function parseCaps(text: string | undefined): readonly string[] | undefined {
  if (text === undefined) return undefined;
  const caps = new Set<string>();
  const items = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const item of items) {
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
