/** The `--arch` option shared by every command: ABI names and aliases, a typo is a usage error. */
import { ARCHES, hostArch, parseArch, type Arch } from '../syscalls/arch.js';
import { optionValue, UsageError, type ParsedArgs } from './args.js';

/** The ABI named by --arch, or undefined when the option is absent. */
export function archOption(args: ParsedArgs): Arch | undefined {
  const text = optionValue(args, 'arch');
  if (text === undefined) return undefined;
  const arch = parseArch(text);
  if (arch === undefined)
    throw new UsageError(`unknown architecture '${text}' (known: ${ARCHES.join(', ')})`);
  return arch;
}

/** The ABI named by --arch, defaulting to this machine's. */
export function archOrHost(args: ParsedArgs): Arch {
  return archOption(args) ?? hostArch();
}
