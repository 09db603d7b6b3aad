/**
 * Reading a format's architecture spelling (systemd's "x86-64", OCI's "SCMP_ARCH_X86_64"): one sysfence
 * compiles for, one the format's tool knows but sysfence does not (dropped, so that ABI gets the bad-arch
 * action: stricter, never weaker), or no architecture name at all (an error with a hint).
 */
import { ARCHES, type Arch } from '../syscalls/arch.js';

/** What an architecture spelling names. */
export type ArchLookup =
  | { readonly kind: 'supported'; readonly arch: Arch }
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'unknown' };

/** Classifies `name` by the format's spelling of each ABI and the spellings only its tool knows. */
export function lookupArchName(
  spellings: Readonly<Record<Arch, string>>,
  otherKnown: ReadonlySet<string>,
  name: string,
): ArchLookup {
  const arch = ARCHES.find((candidate) => spellings[candidate] === name);
  if (arch !== undefined) return { kind: 'supported', arch };
  return otherKnown.has(name) ? { kind: 'unsupported' } : { kind: 'unknown' };
}
