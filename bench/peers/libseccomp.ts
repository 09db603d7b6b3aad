/**
 * libseccomp as a peer: the oracle the differential tests compare sysfence's filters against, and the
 * compiler the compile benchmark measures against. The filter is built by libseccomp_compile.py (Debian's
 * python3-seccomp binding, libseccomp 2.5.4) from a JSON spec; this module writes the spec, runs the
 * script and decodes the raw BPF it exports.
 *
 * libseccomp 2.5.4 behaviour, observed empirically (export_pfc / export_bpf + the emulator) and relied on
 * by the tests:
 *  - Architecture check: a filter for x86_64 without x32 sends nr >= 0x40000000 (the x32 bit) to the
 *    bad-arch action, except nr == 0xffffffff (-1, what a tracer sets to skip a syscall), which gets the
 *    default action. With x32 added, x86_64 and x32 numbers share one AUDIT_ARCH section and no x32-bit
 *    check is made: every unmatched number, x32 or not, gets the default action.
 *  - Numbers no rule names (unassigned, or newer than libseccomp's tables) get the default action:
 *    libseccomp has no separate action for unknown syscalls.
 *  - Names libseccomp 2.5.4 does not know (statmount 457 and later on every ABI, uretprobe/uprobe,
 *    map_shadow_stack on x32 only, ...) are refused with EINVAL. How to compare: the peer drops them
 *    (unknownSyscalls: 'skip') and the tests excuse exactly those (ABI, name) pairs from a pinned list.
 *    A name known on some ABIs and missing on another is silently skipped there — except that libseccomp's
 *    x32 table lists map_shadow_stack with its pseudo number -10245, and the filter compares nr against
 *    that (0xffffd7fb); harmless, no real syscall has that number.
 *  - i386 multiplexing: a rule for socket, bind, connect, ... (socketcall family) or shmget, semop, msgsnd,
 *    ... (ipc family) also allows socketcall(SYS_xxx) / ipc(xxx) with a0 == the call number — and drops
 *    the rule's own argument conditions there (socket(a0 == AF_INET) becomes socketcall(a0 == SYS_SOCKET)).
 *  - libseccomp treats i386 and x32 as 32-bit ABIs: conditions compare only the low argument word, and a
 *    64-bit constant is truncated (eq 0x100000003 matches a0 == 3 there; on x86_64 it compares both words).
 *    For i386 that is what the kernel's compat syscalls see: a 64-bit process can enter the ia32 ABI
 *    (int $0x80) with non-zero upper register halves, and seccomp_data carries them (seen on Linux 6.18).
 *  - Overlapping rules on one syscall are not first-match: an unconditional rule absorbs every conditional
 *    rule of that syscall whatever their order or action; a rule with exactly the same conditions and a
 *    different action is refused (EEXIST); overlapping conditional rules with different actions resolve
 *    by libseccomp's internal tree order (e.g. allow a0 > 3 + errno a0 < 10 gives errno for 3 < a0 < 10).
 *  - A rule whose action is the default action is refused (EACCES); two conditions on the same argument
 *    in one rule are refused (EINVAL); TRAP carries no data; ERRNO(4095) is refused (EINVAL) although the
 *    kernel's MAX_ERRNO is 4095.
 *  - Bugs (confirmed by running the exported filter on this kernel): range checks split into hi32/lo32 are
 *    mis-merged across rules of one syscall ((a1 > 0 && a3 == 0) || (a1 < 1 && a5 == 0) allows a1 = 0,
 *    a3 = 0, a5 = 1); and with optimize 1 on x86_64 + x32 + i386, a rule on an i386-only syscall (waitpid)
 *    can make the x86_64 section skip its syscall-number load, so `kill(a0 == 0) → errno` never fires.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { actionToRet, actionsEqual, type Action } from '../../src/policy/action.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import { SCMP_ARCH_NAME, type Arch } from '../../src/syscalls/arch.js';
import { decodeProgram, type Program } from '../../src/bpf/insn.js';

/** The interpreter with Debian's python3-seccomp; a pyenv python on PATH does not have the module. */
export const PEER_PYTHON = '/usr/bin/python3';
export const PEER_INSTALL_HINT =
  'apt-get install -y python3-seccomp (and run the peer with /usr/bin/python3)';

/** The calls libseccomp also reaches through i386 socketcall(2) (its x86 table's multiplexed entries). */
export const SOCKETCALL_FAMILY: readonly string[] = [
  'socket',
  'bind',
  'connect',
  'listen',
  'accept',
  'accept4',
  'getsockname',
  'getpeername',
  'socketpair',
  'send',
  'recv',
  'sendto',
  'recvfrom',
  'shutdown',
  'setsockopt',
  'getsockopt',
  'sendmsg',
  'recvmsg',
  'recvmmsg',
  'sendmmsg',
];
/** The calls libseccomp also reaches through i386 ipc(2). */
export const IPC_FAMILY: readonly string[] = [
  'semop',
  'semget',
  'semctl',
  'semtimedop',
  'msgsnd',
  'msgrcv',
  'msgget',
  'msgctl',
  'shmat',
  'shmdt',
  'shmget',
  'shmctl',
];

export interface PeerCondition {
  readonly index: 0 | 1 | 2 | 3 | 4 | 5;
  readonly op: ArgOp;
  readonly value: bigint;
  /** masked_eq only: (arg & mask) == value. */
  readonly mask?: bigint;
}

export interface PeerRule {
  readonly syscall: string;
  readonly action: Action;
  readonly conditions: readonly PeerCondition[];
}

export interface LibseccompSpec {
  readonly defaultAction: Action;
  /** libseccomp's own default is kill_thread. */
  readonly badArchAction?: Action;
  readonly arches: readonly Arch[];
  /** CTL_OPTIMIZE: 1 = rules in priority order, 2 = binary tree over syscall numbers. */
  readonly optimize: 1 | 2;
  /** What to do with names libseccomp does not know: fail (the default) or drop the rule and report it. */
  readonly unknownSyscalls?: 'error' | 'skip';
  readonly rules: readonly PeerRule[];
}

export interface LibseccompResult {
  readonly program: Program;
  readonly bytes: Buffer;
  /** Rules libseccomp could not take: action equal to the default (a no-op) or an unknown name. */
  readonly skippedRules: readonly { readonly rule: number; readonly why: string }[];
  /** Syscall names dropped because libseccomp does not know them (only with unknownSyscalls: 'skip'). */
  readonly unknownSyscalls: readonly string[];
  /** Median seconds of filter build + export_bpf inside python (time.perf_counter), without start-up. */
  readonly buildSeconds: number;
  /** Wall-clock seconds of the whole peer run, python start-up included. */
  readonly processSeconds: number;
  readonly libseccompVersion: string;
}

export interface CompileOptions {
  /** Build the filter this many times inside python and report the median build time. */
  readonly repeat?: number;
}

/** Raised when a policy cannot be expressed for libseccomp; lists every reason, naming the rule. */
export class InexpressibleForLibseccomp extends Error {
  constructor(readonly reasons: readonly string[]) {
    super(`libseccomp cannot express this policy:\n  - ${reasons.join('\n  - ')}`);
    this.name = 'InexpressibleForLibseccomp';
  }
}

/** Path of libseccomp_compile.py, from the source tree or from dist/bench/peers (tsc does not copy it). */
export function peerScriptPath(): string {
  const candidates = ['./libseccomp_compile.py', '../../../bench/peers/libseccomp_compile.py'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined)
    throw new Error(`libseccomp_compile.py not found; looked at ${candidates.join(', ')}`);
  return found;
}

/** Undefined if the peer can run here, else what is missing and how to install it. */
export function libseccompUnavailable(): string | undefined {
  const probe = spawnSync(PEER_PYTHON, ['-c', 'import seccomp'], { encoding: 'utf8' });
  if (probe.error !== undefined)
    return `${PEER_PYTHON} cannot run (${probe.error.message}); install: ${PEER_INSTALL_HINT}`;
  if (probe.status !== 0) return `${PEER_PYTHON} has no seccomp module; install: ${PEER_INSTALL_HINT}`;
  return undefined;
}

/** The spec as the python peer reads it: SCMP arch names and 64-bit values as decimal strings. */
function specToJson(spec: LibseccompSpec): string {
  return JSON.stringify({
    defaultAction: spec.defaultAction,
    ...(spec.badArchAction === undefined ? {} : { badArchAction: spec.badArchAction }),
    arches: spec.arches.map((arch) => SCMP_ARCH_NAME[arch]),
    optimize: spec.optimize,
    unknownSyscalls: spec.unknownSyscalls ?? 'error',
    rules: spec.rules.map((rule) => ({
      syscall: rule.syscall,
      action: rule.action,
      conditions: rule.conditions.map((cond) => ({
        index: cond.index,
        op: cond.op,
        value: cond.value.toString(),
        ...(cond.mask === undefined ? {} : { mask: cond.mask.toString() }),
      })),
    })),
  });
}

interface PeerOutput {
  readonly bpf: string;
  readonly skippedRules: LibseccompResult['skippedRules'];
  readonly unknownSyscalls: readonly string[];
  readonly buildSeconds: number;
  readonly libseccompVersion: string;
}

/** Builds the filter with libseccomp and returns its BPF (little-endian: the peer runs on this host). */
export function libseccompCompile(spec: LibseccompSpec, options: CompileOptions = {}): LibseccompResult {
  const started = process.hrtime.bigint();
  const run = spawnSync(PEER_PYTHON, [peerScriptPath(), '--json', '--repeat', String(options.repeat ?? 1)], {
    input: specToJson(spec),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const processSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.error !== undefined)
    throw new Error(`libseccomp peer did not run: ${run.error.message}; install: ${PEER_INSTALL_HINT}`);
  if (run.status !== 0) throw new Error(`libseccomp peer failed (exit ${run.status}): ${run.stderr.trim()}`);
  const output = JSON.parse(run.stdout) as PeerOutput;
  const bytes = Buffer.from(output.bpf, 'base64');
  return {
    program: decodeProgram(bytes, false),
    bytes,
    skippedRules: output.skippedRules,
    unknownSyscalls: output.unknownSyscalls,
    buildSeconds: output.buildSeconds,
    processSeconds,
    libseccompVersion: output.libseccompVersion,
  };
}

export interface SpecOptions {
  /** Defaults to the policy's architectures. */
  readonly arches?: readonly Arch[];
  readonly optimize: 1 | 2;
  readonly unknownSyscalls?: 'error' | 'skip';
}

/**
 * The libseccomp spec with the same decisions as the policy, or InexpressibleForLibseccomp naming every
 * rule libseccomp cannot carry: unknownAction ≠ defaultAction (libseccomp has one default), width-32
 * conditions other than eq/masked_eq (libseccomp 2.5 compares all 64 bits; eq and masked_eq become a
 * masked_eq with the low-word mask), two conditions on one argument in a rule, trap with data, errno 4095,
 * i386 socketcall/ipc family rules that libseccomp's multiplexing would collapse into a conflict, and rules
 * of one syscall whose first-match outcome libseccomp's merge would change (see peerRulesForSyscall).
 * Rules that can never match (a masked_eq value outside its mask) are left out.
 */
export function specFromPolicy(policy: ResolvedPolicy, options: SpecOptions): LibseccompSpec {
  const reasons: string[] = [];
  if (!actionsEqual(policy.unknownAction, policy.defaultAction)) {
    reasons.push(
      'unknownAction differs from defaultAction; libseccomp gives every unmatched number the default action',
    );
  }
  for (const [what, action] of [
    ['defaultAction', policy.defaultAction],
    ['badArchAction', policy.badArchAction],
  ] as const) {
    const problem = libseccompActionProblem(action);
    if (problem !== undefined) reasons.push(`${what}: ${problem}`);
  }
  const arches = options.arches ?? policy.architectures;
  const context: Conversion = {
    defaultAction: policy.defaultAction,
    lowWordsOnly: arches.some((arch) => LIBSECCOMP_32_BIT_ABIS.includes(arch)),
    reasons,
  };
  const rules: PeerRule[] = [];
  for (const [syscall, ordered] of rulesBySyscall(policy.rules)) {
    rules.push(...peerRulesForSyscall(syscall, ordered, context));
  }
  if (arches.includes('i386')) {
    // The peer skips default-action rules, so only the others reach libseccomp's multiplexing.
    const effective = rules.filter((peer) => !actionsEqual(peer.action, policy.defaultAction));
    checkMultiplexing('socketcall', SOCKETCALL_FAMILY, effective, reasons);
    checkMultiplexing('ipc', IPC_FAMILY, effective, reasons);
  }
  if (reasons.length > 0) throw new InexpressibleForLibseccomp(reasons);
  return {
    defaultAction: policy.defaultAction,
    badArchAction: policy.badArchAction,
    arches,
    optimize: options.optimize,
    unknownSyscalls: options.unknownSyscalls ?? 'error',
    rules,
  };
}

/**
 * On i386 libseccomp turns every rule on a family member into a multiplexer rule without the member's
 * conditions (socket(a0 == 2) → socketcall(a0 == SYS_SOCKET)), and merges those with the multiplexer's own
 * rules. A member whose rules carry different actions then gives libseccomp two rules with the same
 * conditions and different actions (it refuses them, EEXIST); a conditional multiplexer rule whose action
 * differs from a member's may overlap it. Both are reported. `rules` are the peer rules that reach
 * libseccomp (default-action rules are skipped by the peer).
 */
function checkMultiplexing(
  multiplexer: string,
  family: readonly string[],
  rules: readonly PeerRule[],
  reasons: string[],
): void {
  const actionsOf = (syscall: string): Set<number> =>
    new Set(rules.filter((peer) => peer.syscall === syscall).map((peer) => actionToRet(peer.action)));
  const own = rules.filter((peer) => peer.syscall === multiplexer);
  const ownIsUnconditional = own.some((peer) => peer.conditions.length === 0);
  const ownActions = actionsOf(multiplexer);
  for (const member of family) {
    const memberActions = actionsOf(member);
    if (memberActions.size > 1) {
      reasons.push(
        `${member}: rules with different actions all become i386 ${multiplexer}(SYS_${member.toUpperCase()}) rules in libseccomp, which refuses them`,
      );
    }
    const clash = [...memberActions].some((ret) => !ownActions.has(ret) || ownActions.size > 1);
    if (own.length > 0 && !ownIsUnconditional && clash) {
      reasons.push(
        `${member}: its i386 ${multiplexer} rule may overlap a conditional ${multiplexer} rule with another action`,
      );
    }
  }
}

/** libseccomp 2.5.4 refuses TRAP with data and errno 4095 (it requires errno < MAX_ERRNO; the kernel allows 4095). */
function libseccompActionProblem(action: Action): string | undefined {
  if (action.kind === 'trap' && action.data !== 0)
    return `trap(${action.data}) — libseccomp's TRAP carries no data`;
  if (action.kind === 'errno' && action.errno >= 4095)
    return `errno(${action.errno}) — libseccomp 2.5.4 accepts errno values below 4095 only`;
  return undefined;
}

/** What converting one policy needs to know besides the rule at hand; reasons collect what cannot be carried. */
interface Conversion {
  readonly defaultAction: Action;
  /** The filter includes an ABI libseccomp treats as 32-bit: it compares and keeps only low words there. */
  readonly lowWordsOnly: boolean;
  readonly reasons: string[];
}

/** ABIs libseccomp 2.5.4 describes as 32-bit (its x32 too): argument constants are truncated to 32 bits. */
const LIBSECCOMP_32_BIT_ABIS: readonly Arch[] = ['i386', 'x32', 'arm'];

/** Each syscall's rules in precedence order (first match wins), syscalls in first-mention order. */
function rulesBySyscall(rules: readonly PolicyRule[]): Map<string, PolicyRule[]> {
  const bySyscall = new Map<string, PolicyRule[]>();
  for (const rule of rules) {
    for (const syscall of rule.syscalls) {
      const list = bySyscall.get(syscall) ?? [];
      list.push(rule);
      bySyscall.set(syscall, list);
    }
  }
  return bySyscall;
}

/** Where a rule was written, for reasons. */
function describe(rule: PolicyRule, syscall: string): string {
  return `${syscall} (rule at ${rule.location.file}:${rule.location.line}:${rule.location.column}, layer ${rule.layer})`;
}

/**
 * libseccomp's peer rules for one syscall with the same first-match outcome, or reasons why not.
 * Rules after the first unconditional one are unreachable and dropped. An unconditional rule after
 * conditional ones is only safe when its action is the default (libseccomp skips it and the conditional
 * rules stand) or equals theirs (libseccomp absorbs them); otherwise libseccomp's unconditional rule would
 * override the earlier matches. Conditional rules with different actions must be provably disjoint (an eq
 * on the same argument with different values), since libseccomp resolves overlaps by its tree order.
 */
function peerRulesForSyscall(
  syscall: string,
  ordered: readonly PolicyRule[],
  context: Conversion,
): PeerRule[] {
  const reachable: PolicyRule[] = [];
  for (const rule of ordered.filter(canMatch)) {
    reachable.push(rule);
    if (rule.conditions.length === 0) break;
  }
  const last = reachable[reachable.length - 1];
  const conditional = reachable.filter((rule) => rule.conditions.length > 0);
  if (last !== undefined && last.conditions.length === 0 && conditional.length > 0) {
    const absorbs = conditional.every((rule) => actionsEqual(rule.action, last.action));
    if (!absorbs && !actionsEqual(last.action, context.defaultAction)) {
      context.reasons.push(
        `${describe(last, syscall)}: unconditional rule after conditional rules with other actions (libseccomp would let it override them)`,
      );
    }
  }
  checkDisjoint(syscall, conditional, context);
  return reachable.flatMap((rule) => peerRule(syscall, rule, context.reasons));
}

/**
 * False for a rule with a masked_eq whose value has bits outside its mask: the IR never matches it, while
 * libseccomp masks the value too ((arg & mask) == (value & mask)) and would. Such a rule is left out.
 */
function canMatch(rule: PolicyRule): boolean {
  return rule.conditions.every((cond) => cond.op !== 'masked_eq' || (cond.value & ~maskOf(cond)) === 0n);
}

/** A masked_eq's mask; absent means all ones of the condition's width (a plain eq), as the evaluator reads it. */
function maskOf(cond: ArgCondition): bigint {
  return cond.mask ?? (1n << BigInt(cond.width)) - 1n;
}

/** Reports pairs of conditional rules with different actions that may match the same call. */
function checkDisjoint(syscall: string, conditional: readonly PolicyRule[], context: Conversion): void {
  conditional.forEach((first, i) => {
    for (const second of conditional.slice(i + 1)) {
      if (
        !actionsEqual(first.action, second.action) &&
        !provablyDisjoint(first.conditions, second.conditions, context.lowWordsOnly)
      ) {
        context.reasons.push(
          `${describe(second, syscall)}: may overlap an earlier rule with another action (first match vs libseccomp's tree order)`,
        );
      }
    }
  });
}

/**
 * True if some argument is compared for equality with different values, at the same width, in both.
 * With lowWordsOnly (the filter has an ABI libseccomp treats as 32-bit) the low words must differ:
 * libseccomp truncates the constants there, and eq 0x100000000 becomes the same check as eq 0.
 */
function provablyDisjoint(
  a: readonly ArgCondition[],
  b: readonly ArgCondition[],
  lowWordsOnly: boolean,
): boolean {
  const differ = (x: bigint, y: bigint): boolean =>
    lowWordsOnly ? (x & LOW_WORD) !== (y & LOW_WORD) : x !== y;
  return a.some((x) =>
    b.some(
      (y) =>
        x.op === 'eq' &&
        y.op === 'eq' &&
        x.index === y.index &&
        x.width === y.width &&
        differ(x.value, y.value),
    ),
  );
}

const LOW_WORD = 0xffffffffn;

/** One policy rule as a peer rule; empty (with a reason) when libseccomp cannot carry it. */
function peerRule(syscall: string, rule: PolicyRule, reasons: string[]): PeerRule[] {
  const where = describe(rule, syscall);
  const actionProblem = libseccompActionProblem(rule.action);
  if (actionProblem !== undefined) reasons.push(`${where}: ${actionProblem}`);
  const indexes = rule.conditions.map((cond) => cond.index);
  if (new Set(indexes).size !== indexes.length) {
    reasons.push(`${where}: two conditions on one argument — libseccomp 2.5 refuses that in one rule`);
  }
  const conditions = rule.conditions.flatMap((cond) => peerCondition(cond, where, reasons));
  return [{ syscall, action: rule.action, conditions }];
}

/** A 64-bit condition as is; a width-32 eq/masked_eq as a masked_eq on the low word; other width-32 ops cannot be carried. */
function peerCondition(cond: ArgCondition, where: string, reasons: string[]): PeerCondition[] {
  if (cond.width === 64) {
    return [
      {
        index: cond.index,
        op: cond.op,
        value: cond.value,
        ...(cond.op === 'masked_eq' ? { mask: maskOf(cond) } : {}),
      },
    ];
  }
  if (cond.op === 'eq') return [{ index: cond.index, op: 'masked_eq', value: cond.value, mask: LOW_WORD }];
  if (cond.op === 'masked_eq')
    return [{ index: cond.index, op: 'masked_eq', value: cond.value, mask: maskOf(cond) & LOW_WORD }];
  reasons.push(`${where}: width-32 ${cond.op} on arg ${cond.index} — libseccomp 2.5 compares all 64 bits`);
  return [];
}

/** Per ABI, the names libseccomp cannot resolve there (too new for its tables, or absent on that ABI). */
export function libseccompUnknownNames(
  arches: readonly Arch[],
  names: readonly string[],
): Map<Arch, string[]> {
  const run = spawnSync(PEER_PYTHON, [peerScriptPath(), '--unknown-names'], {
    input: JSON.stringify({ arches: arches.map((arch) => SCMP_ARCH_NAME[arch]), names }),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.error !== undefined)
    throw new Error(`libseccomp peer did not run: ${run.error.message}; install: ${PEER_INSTALL_HINT}`);
  if (run.status !== 0) throw new Error(`libseccomp peer failed (exit ${run.status}): ${run.stderr.trim()}`);
  const byScmpName = JSON.parse(run.stdout) as Record<string, string[]>;
  return new Map(arches.map((arch) => [arch, byScmpName[SCMP_ARCH_NAME[arch]] ?? []]));
}
