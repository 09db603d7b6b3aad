/**
 * systemd's spellings shared by the unit importer and exporter: architecture identifiers
 * (SystemCallArchitectures=, seccomp_arch_from_string in src/shared/seccomp-util.c), errno values
 * (`name:EPERM`, SystemCallErrorNumber=) and the kernel's precedence of actions, which decides what two
 * stacked filters (SystemCallFilter= and SystemCallLog=) do together and which substitute is stricter.
 */
import type { Action } from '../policy/action.js';
import type { Arch } from '../syscalls/arch.js';
import { errnoName, errnoNumber } from '../syscalls/errno.js';
import { lookupArchName, type ArchLookup } from './arch-lookup.js';

/** systemd's identifier of each ABI sysfence knows. */
export const SYSTEMD_ARCH_NAME: Readonly<Record<Arch, string>> = {
  x86_64: 'x86-64',
  x32: 'x32',
  i386: 'x86',
  aarch64: 'arm64',
  arm: 'arm',
  riscv64: 'riscv64',
  s390x: 's390x',
  ppc64le: 'ppc64-le',
  loongarch64: 'loongarch64',
};

/** Identifiers systemd accepts that name ABIs sysfence does not compile for. */
const SYSTEMD_ONLY_ARCHES: ReadonlySet<string> = new Set([
  'mips',
  'mips-le',
  'mips64',
  'mips64-le',
  'mips64-n32',
  'mips64-le-n32',
  'parisc',
  'parisc64',
  'ppc',
  'ppc64',
  's390',
]);

/** What a SystemCallArchitectures= word names. */
export type SystemdArchLookup = ArchLookup;

/** Classifies a SystemCallArchitectures= word other than `native`. */
export function lookupSystemdArch(name: string): SystemdArchLookup {
  return lookupArchName(SYSTEMD_ARCH_NAME, SYSTEMD_ONLY_ARCHES, name);
}

/** What `name:VALUE` or SystemCallErrorNumber=VALUE asks for: an errno, or killing the process. */
export type SystemdDenial = { readonly kind: 'errno'; readonly errno: number } | { readonly kind: 'kill' };

/** Parses an errno name (EPERM), a number 0..4095 or `kill`; undefined if it is none of them. */
export function parseSystemdDenial(text: string): SystemdDenial | undefined {
  if (text === 'kill') return { kind: 'kill' };
  if (/^\d+$/.test(text)) {
    const errno = Number(text);
    return errno <= 4095 ? { kind: 'errno', errno } : undefined;
  }
  const errno = errnoNumber(text);
  return errno === undefined ? undefined : { kind: 'errno', errno };
}

/** An errno as systemd reads it back: its name where there is one, else the number. */
export function systemdErrno(errno: number): string {
  return errnoName(errno) ?? String(errno);
}

const ACTION_PRECEDENCE: readonly Action['kind'][] = [
  'allow',
  'log',
  'trace',
  'notify',
  'errno',
  'trap',
  'kill_thread',
  'kill_process',
];

/**
 * The kernel's precedence of actions (kernel/seccomp.c: the lowest SECCOMP_RET_ACTION_FULL wins when
 * several filters are stacked): kill_process > kill_thread > trap > errno > notify > trace > log > allow.
 * Higher rank = stricter.
 */
export function actionRank(action: Action): number {
  return ACTION_PRECEDENCE.indexOf(action.kind);
}

/** The stricter of two actions by the kernel's precedence; the first on a tie (as the kernel keeps the newer filter's). */
export function stricter(a: Action, b: Action): Action {
  return actionRank(b) > actionRank(a) ? b : a;
}
