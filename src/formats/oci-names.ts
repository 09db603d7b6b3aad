/**
 * The OCI runtime-spec / libseccomp spellings of actions, comparison operators and architectures, and
 * how runc maps them (libcontainer/seccomp/config.go and seccomp_linux.go getAction). Shared by the OCI
 * importer and exporter so both directions agree on every name.
 */
import type { Action } from '../policy/action.js';
import type { ArgOp } from '../policy/ir.js';
import { ARCHES, SCMP_ARCH_NAME, type Arch } from '../syscalls/arch.js';
import { lookupArchName, type ArchLookup } from './arch-lookup.js';

/** EPERM: what runc returns for SCMP_ACT_ERRNO without errnoRet, and the data of a bare SCMP_ACT_TRACE. */
export const RUNC_DEFAULT_ERRNO = 1;

/** The OCI action names runc accepts (config.go `actions`). */
export const OCI_ACTIONS: readonly string[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

/** Actions whose return value carries `errnoRet` in runc (ERRNO as the errno, TRACE as the tracer's data). */
const CARRIES_ERRNO_RET: ReadonlySet<string> = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

/** True when runc puts `errnoRet` into this action's return value; for the others it is ignored. */
export function actionUsesErrnoRet(ociAction: string): boolean {
  return CARRIES_ERRNO_RET.has(ociAction);
}

/**
 * The action runc installs for an OCI action name and optional errnoRet, or undefined for an unknown
 * name. SCMP_ACT_KILL is libseccomp's KILL, which is SECCOMP_RET_KILL_THREAD (not the whole process).
 */
export function ociAction(name: string, errnoRet: number | undefined): Action | undefined {
  const data = errnoRet ?? RUNC_DEFAULT_ERRNO;
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return { kind: 'kill_thread' };
    case 'SCMP_ACT_KILL_PROCESS':
      return { kind: 'kill_process' };
    case 'SCMP_ACT_ERRNO':
      return { kind: 'errno', errno: data };
    case 'SCMP_ACT_TRAP':
      return { kind: 'trap', data: 0 };
    case 'SCMP_ACT_ALLOW':
      return { kind: 'allow' };
    case 'SCMP_ACT_TRACE':
      return { kind: 'trace', data };
    case 'SCMP_ACT_LOG':
      return { kind: 'log' };
    case 'SCMP_ACT_NOTIFY':
      return { kind: 'notify' };
    default:
      return undefined;
  }
}

/** The OCI spelling of an action and the errnoRet that goes with it (ERRNO's errno, TRACE's data). */
export function ociActionName(action: Action): { readonly name: string; readonly errnoRet?: number } {
  switch (action.kind) {
    case 'allow':
      return { name: 'SCMP_ACT_ALLOW' };
    case 'errno':
      return { name: 'SCMP_ACT_ERRNO', errnoRet: action.errno };
    case 'kill_thread':
      return { name: 'SCMP_ACT_KILL_THREAD' };
    case 'kill_process':
      return { name: 'SCMP_ACT_KILL_PROCESS' };
    case 'trap':
      return { name: 'SCMP_ACT_TRAP' };
    case 'trace':
      return { name: 'SCMP_ACT_TRACE', errnoRet: action.data };
    case 'log':
      return { name: 'SCMP_ACT_LOG' };
    case 'notify':
      return { name: 'SCMP_ACT_NOTIFY' };
  }
}

/** OCI comparison operators and the IR op each becomes. */
export const OCI_OPS: Readonly<Record<string, ArgOp>> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** The OCI operator name of an IR op. */
export function ociOpName(op: ArgOp): string {
  const entry = Object.entries(OCI_OPS).find(([, irOp]) => irOp === op);
  if (entry === undefined) throw new Error(`no OCI operator for ${op}`);
  return entry[0];
}

/**
 * Architectures runc knows (config.go `archs`) but sysfence does not compile for. A profile naming them
 * is valid for runc; sysfence drops them, so those ABIs get the bad-arch action (stricter, never weaker).
 */
const RUNC_ONLY_ARCHES: ReadonlySet<string> = new Set([
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_S390',
]);

/** What an SCMP_ARCH_* name names. */
export type OciArchLookup = ArchLookup;

/** Classifies an SCMP_ARCH_* name: one sysfence compiles for, one only runc knows, or not a name at all. */
export function lookupOciArch(name: string): OciArchLookup {
  return lookupArchName(SCMP_ARCH_NAME, RUNC_ONLY_ARCHES, name);
}

/** Every SCMP_ARCH_* name runc accepts, for hints. */
export function knownOciArchNames(): readonly string[] {
  return [...ARCHES.map((arch) => SCMP_ARCH_NAME[arch]), ...RUNC_ONLY_ARCHES];
}

/**
 * Docker's name for the native architecture, as `includes.arches` / `excludes.arches` spell it: moby's
 * goToNative[runtime.GOARCH] (profiles/seccomp/seccomp_linux.go). x32 is no GOARCH, so no Docker host.
 */
const DOCKER_NATIVE_NAME: Readonly<Partial<Record<Arch, string>>> = {
  x86_64: 'amd64',
  i386: 'x86',
  aarch64: 'arm64',
  arm: 'arm',
  riscv64: 'riscv64',
  s390x: 's390x',
  ppc64le: 'ppc64le',
  loongarch64: 'loongarch64',
};

/** Docker's native-arch name for `arch`, or undefined where Docker cannot run natively. */
export function dockerNativeName(arch: Arch): string | undefined {
  return DOCKER_NATIVE_NAME[arch];
}
