/**
 * Landlock: the path and port complement to seccomp. A policy's `filesystem` (read / write / execute
 * path lists) and `network` (TCP bind / connect ports) sections become one Landlock ruleset, restricted
 * onto the launcher right before it execs the workload.
 *
 * Planning (which access rights, which rules, what this kernel's ABI cannot enforce) is separate from
 * applying, so `run` can refuse bad input and report gaps before anything runs.
 *
 * What each list grants beneath its paths:
 *   read    → read files, list directories
 *   write   → write, truncate, create, remove, rename/link (REFER), ioctl on devices
 *   execute → execute files and read them (the kernel opens an executable for reading to load it)
 * A section that is present makes Landlock handle every right of that kind the ABI supports, so whatever
 * is not granted is denied; a section that is absent leaves that kind unrestricted.
 */
import { closeSync, openSync, realpathSync, statSync } from 'node:fs';
import type { FilesystemRules, NetworkRules } from '../policy/ir.js';
import {
  SystemCallError,
  checkedSyscall,
  closeFd,
  errnoValue,
  hostSyscallNumber,
  nativeBytes,
  rawSyscall,
} from './ffi.js';

/** LANDLOCK_ACCESS_FS_* (include/uapi/linux/landlock.h). */
export const ACCESS_FS = {
  EXECUTE: 1n << 0n,
  WRITE_FILE: 1n << 1n,
  READ_FILE: 1n << 2n,
  READ_DIR: 1n << 3n,
  REMOVE_DIR: 1n << 4n,
  REMOVE_FILE: 1n << 5n,
  MAKE_CHAR: 1n << 6n,
  MAKE_DIR: 1n << 7n,
  MAKE_REG: 1n << 8n,
  MAKE_SOCK: 1n << 9n,
  MAKE_FIFO: 1n << 10n,
  MAKE_BLOCK: 1n << 11n,
  MAKE_SYM: 1n << 12n,
  REFER: 1n << 13n,
  TRUNCATE: 1n << 14n,
  IOCTL_DEV: 1n << 15n,
} as const;

/** LANDLOCK_ACCESS_NET_*. */
export const ACCESS_NET = {
  BIND_TCP: 1n << 0n,
  CONNECT_TCP: 1n << 1n,
} as const;

/** The ABI version that introduced each right that is not in ABI 1. */
const ABI_OF_RIGHT: ReadonlyArray<readonly [right: bigint, abi: number, what: string]> = [
  [ACCESS_FS.REFER, 2, 'renaming or linking files across directories (REFER)'],
  [ACCESS_FS.TRUNCATE, 3, 'truncating files (TRUNCATE)'],
  [ACCESS_FS.IOCTL_DEV, 5, 'ioctl on device files (IOCTL_DEV)'],
];

/** ABI 4 added TCP port rules. */
export const NET_ABI = 4;
/** ABI 7 added the restrict_self logging flags. */
const LOG_FLAGS_ABI = 7;
const LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON = 1 << 1;

const LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;
const LANDLOCK_RULE_PATH_BENEATH = 1;
const LANDLOCK_RULE_NET_PORT = 2;

const ABI1_FS = (1n << 13n) - 1n;
/** Rights that make sense on a file (not a directory); the kernel rejects others on a file rule. */
const FILE_RIGHTS =
  ACCESS_FS.EXECUTE | ACCESS_FS.WRITE_FILE | ACCESS_FS.READ_FILE | ACCESS_FS.TRUNCATE | ACCESS_FS.IOCTL_DEV;

const READ_RIGHTS = ACCESS_FS.READ_FILE | ACCESS_FS.READ_DIR;
const WRITE_RIGHTS =
  ACCESS_FS.WRITE_FILE |
  ACCESS_FS.REMOVE_DIR |
  ACCESS_FS.REMOVE_FILE |
  ACCESS_FS.MAKE_CHAR |
  ACCESS_FS.MAKE_DIR |
  ACCESS_FS.MAKE_REG |
  ACCESS_FS.MAKE_SOCK |
  ACCESS_FS.MAKE_FIFO |
  ACCESS_FS.MAKE_BLOCK |
  ACCESS_FS.MAKE_SYM |
  ACCESS_FS.REFER |
  ACCESS_FS.TRUNCATE |
  ACCESS_FS.IOCTL_DEV;
const EXECUTE_RIGHTS = ACCESS_FS.EXECUTE | ACCESS_FS.READ_FILE;

export type PathList = keyof FilesystemRules;
const RIGHTS_OF_LIST: Readonly<Record<PathList, bigint>> = {
  read: READ_RIGHTS,
  write: WRITE_RIGHTS,
  execute: EXECUTE_RIGHTS,
};

/** The filesystem rights a Landlock ABI can handle; 0 when Landlock is unavailable. */
export function fsRightsForAbi(abi: number): bigint {
  if (abi < 1) return 0n;
  return ABI_OF_RIGHT.reduce((rights, [right, since]) => (abi >= since ? rights | right : rights), ABI1_FS);
}

/** The network rights a Landlock ABI can handle. */
export function netRightsForAbi(abi: number): bigint {
  return abi >= NET_ABI ? ACCESS_NET.BIND_TCP | ACCESS_NET.CONNECT_TCP : 0n;
}

export interface PathRule {
  readonly path: string;
  readonly access: bigint;
  /** The policy lists that named this path, for messages. */
  readonly lists: readonly PathList[];
}

export interface PortRule {
  readonly port: number;
  readonly access: bigint;
}

/** Something the policy asks for that this kernel's Landlock ABI cannot enforce. */
export interface LandlockGap {
  /** The policy rule(s) concerned, e.g. "network.connectTcp 8080" or "filesystem.write". */
  readonly rule: string;
  /** The ABI that would enforce it. */
  readonly neededAbi: number;
  /** What happens instead, in words. */
  readonly effect: string;
}

export interface LandlockPlan {
  /** The ABI this plan was made for (0: Landlock unavailable). */
  readonly abi: number;
  readonly handledFs: bigint;
  readonly handledNet: bigint;
  readonly pathRules: readonly PathRule[];
  readonly portRules: readonly PortRule[];
  readonly gaps: readonly LandlockGap[];
}

export type PathKind = 'directory' | 'file';

/** What a path is, or an error naming the policy list and path when it does not exist. */
export type PathInspector = (path: string, list: PathList) => PathKind;

/** Inspects a path on this host: it must exist and be absolute (Landlock rules are bound to inodes). */
export function inspectHostPath(path: string, list: PathList): PathKind {
  if (!path.startsWith('/'))
    throw new Error(`filesystem.${list}: path ${JSON.stringify(path)} must be absolute`);
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(
      `filesystem.${list}: path ${path} cannot be used for a Landlock rule (${code}); it must exist before run`,
    );
  }
}

/** Merges the lists into one rule per path, in first-mention order, with the ABI's rights. */
function planPathRules(fs: FilesystemRules, handledFs: bigint, inspect: PathInspector): PathRule[] {
  const byPath = new Map<string, { access: bigint; lists: PathList[]; kind: PathKind }>();
  for (const list of ['read', 'write', 'execute'] as const) {
    for (const path of fs[list]) {
      const seen = byPath.get(path) ?? { access: 0n, lists: [], kind: inspect(path, list) };
      seen.access |= RIGHTS_OF_LIST[list];
      seen.lists.push(list);
      byPath.set(path, seen);
    }
  }
  return [...byPath].map(([path, { access, lists, kind }]) => ({
    path,
    access: access & handledFs & (kind === 'file' ? FILE_RIGHTS : ~0n),
    lists,
  }));
}

function planPortRules(network: NetworkRules): PortRule[] {
  const access = new Map<number, bigint>();
  const grant = (port: number, right: bigint, list: string): void => {
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`network.${list}: ${port} is not a TCP port`);
    access.set(port, (access.get(port) ?? 0n) | right);
  };
  network.bindTcp.forEach((port) => grant(port, ACCESS_NET.BIND_TCP, 'bindTcp'));
  network.connectTcp.forEach((port) => grant(port, ACCESS_NET.CONNECT_TCP, 'connectTcp'));
  return [...access].map(([port, rights]) => ({ port, access: rights }));
}

function filesystemGaps(fs: FilesystemRules, abi: number): LandlockGap[] {
  if (abi < 1) {
    return (['read', 'write', 'execute'] as const).flatMap((list) =>
      fs[list].map((path) => ({
        rule: `filesystem.${list} ${path}`,
        neededAbi: 1,
        effect: 'not enforced: Landlock is unavailable, every path is reachable',
      })),
    );
  }
  return ABI_OF_RIGHT.filter(([, since]) => abi < since).map(([right, since, what]) =>
    right === ACCESS_FS.REFER
      ? {
          rule: 'filesystem.write',
          neededAbi: since,
          effect: `${what} is always denied, even beneath write paths`,
        }
      : { rule: 'filesystem', neededAbi: since, effect: `${what} is not restricted outside the write paths` },
  );
}

function networkGaps(network: NetworkRules, abi: number): LandlockGap[] {
  if (abi >= NET_ABI) return [];
  const effect = (what: string): string => `not enforced: TCP ${what} to any port is allowed`;
  return [
    ...network.bindTcp.map((port) => ({
      rule: `network.bindTcp ${port}`,
      neededAbi: NET_ABI,
      effect: effect('bind'),
    })),
    ...network.connectTcp.map((port) => ({
      rule: `network.connectTcp ${port}`,
      neededAbi: NET_ABI,
      effect: effect('connect'),
    })),
    ...(network.bindTcp.length + network.connectTcp.length === 0
      ? [
          {
            rule: 'network',
            neededAbi: NET_ABI,
            effect: 'not enforced: TCP bind and connect are unrestricted',
          },
        ]
      : []),
  ];
}

/**
 * The Landlock ruleset for a policy's filesystem and network sections on a kernel with `abi`, and the
 * gaps that ABI leaves. Undefined when the policy has neither section. Throws on a path that does not
 * exist or a bad port: a rule that cannot be built is an error, never silently dropped.
 */
export function planLandlock(
  filesystem: FilesystemRules | undefined,
  network: NetworkRules | undefined,
  abi: number,
  inspect: PathInspector = inspectHostPath,
): LandlockPlan | undefined {
  if (filesystem === undefined && network === undefined) return undefined;
  const handledFs = filesystem ? fsRightsForAbi(abi) : 0n;
  const handledNet = network ? netRightsForAbi(abi) : 0n;
  const pathRules = filesystem ? planPathRules(filesystem, handledFs, inspect) : [];
  const portRules = network ? planPortRules(network) : [];
  return {
    abi,
    handledFs,
    handledNet,
    pathRules: handledFs === 0n ? [] : pathRules,
    portRules: handledNet === 0n ? [] : portRules,
    gaps: [
      ...(filesystem ? filesystemGaps(filesystem, abi) : []),
      ...(network ? networkGaps(network, abi) : []),
    ],
  };
}

/** One line per gap, as `run` prints them to stderr. */
export function formatLandlockGaps(plan: LandlockPlan): string[] {
  return plan.gaps.map(
    (gap) =>
      `sysfence: landlock: ${gap.rule}: ${gap.effect} (this kernel has Landlock ABI ${plan.abi}, ABI ${gap.neededAbi} needed)`,
  );
}

/**
 * The kernel's Landlock ABI version: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION).
 * 0 when Landlock is not built in (ENOSYS) or disabled at boot (EOPNOTSUPP).
 */
export function landlockAbi(): number {
  const result = rawSyscall(hostSyscallNumber('landlock_create_ruleset'), [
    0,
    0,
    LANDLOCK_CREATE_RULESET_VERSION,
  ]);
  if (result.value >= 0) return result.value;
  if (result.errno === errnoValue('ENOSYS') || result.errno === errnoValue('EOPNOTSUPP')) return 0;
  throw new SystemCallError('landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)', result.errno);
}

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/** struct landlock_ruleset_attr { __u64 handled_access_fs; __u64 handled_access_net; } (ABI ≥ 4 size; older kernels accept the zero tail). */
function rulesetAttr(plan: LandlockPlan): Buffer {
  const attr = Buffer.alloc(16);
  attr.writeBigUInt64LE(plan.handledFs, 0);
  attr.writeBigUInt64LE(plan.handledNet, 8);
  return attr;
}

/** struct landlock_path_beneath_attr { __u64 allowed_access; __s32 parent_fd; } __attribute__((packed)). */
function pathBeneathAttr(access: bigint, parentFd: number): Buffer {
  const attr = Buffer.alloc(12);
  attr.writeBigUInt64LE(access, 0);
  attr.writeInt32LE(parentFd, 8);
  return attr;
}

/** struct landlock_net_port_attr { __u64 allowed_access; __u64 port; }. */
function netPortAttr(access: bigint, port: number): Buffer {
  const attr = Buffer.alloc(16);
  attr.writeBigUInt64LE(access, 0);
  attr.writeBigUInt64LE(BigInt(port), 8);
  return attr;
}

function addPathRule(rulesetFd: number, rule: PathRule): void {
  if (rule.access === 0n) return;
  const parentFd = openSync(rule.path, O_PATH | O_CLOEXEC);
  try {
    const attr = nativeBytes(pathBeneathAttr(rule.access, parentFd));
    checkedSyscall('landlock_add_rule', [rulesetFd, LANDLOCK_RULE_PATH_BENEATH, attr.address, 0], rule.path);
  } finally {
    closeSync(parentFd);
  }
}

function addPortRule(rulesetFd: number, rule: PortRule): void {
  const attr = nativeBytes(netPortAttr(rule.access, rule.port));
  checkedSyscall(
    'landlock_add_rule',
    [rulesetFd, LANDLOCK_RULE_NET_PORT, attr.address, 0],
    `TCP port ${rule.port}`,
  );
}

/**
 * Builds the plan's ruleset and restricts the calling thread to it. The caller must have set
 * no_new_privs (or hold CAP_SYS_ADMIN) and must exec from this same thread: Landlock binds the domain
 * to the thread that calls landlock_restrict_self, and execve keeps only that thread.
 * A plan with nothing handled (Landlock unavailable) is a no-op; its gaps were reported while planning.
 */
export function applyLandlock(plan: LandlockPlan): void {
  if (plan.handledFs === 0n && plan.handledNet === 0n) return;
  const attr = nativeBytes(rulesetAttr(plan));
  const rulesetFd = checkedSyscall('landlock_create_ruleset', [attr.address, 16, 0]);
  try {
    plan.pathRules.forEach((rule) => addPathRule(rulesetFd, rule));
    plan.portRules.forEach((rule) => addPortRule(rulesetFd, rule));
    // ABI 7+: also audit denials after execve, i.e. the workload's (by default only the restricting program's are).
    const flags = plan.abi >= LOG_FLAGS_ABI ? LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
    checkedSyscall('landlock_restrict_self', [rulesetFd, flags]);
  } finally {
    closeFd(rulesetFd);
  }
}

/**
 * Whether an existing path lies beneath (or is) a rule path that grants `right`. Both sides are
 * compared after resolving symlinks, as Landlock binds rules to the inodes the paths lead to.
 */
export function isGranted(plan: LandlockPlan, path: string, right: bigint): boolean {
  if ((plan.handledFs & right) === 0n) return true;
  const real = realpathSync(path);
  return plan.pathRules.some(
    (rule) => (rule.access & right) !== 0n && isBeneath(real, realpathSync(rule.path)),
  );
}

function isBeneath(path: string, parent: string): boolean {
  const base = parent.endsWith('/') ? parent : `${parent}/`;
  return path === parent || path.startsWith(base);
}
