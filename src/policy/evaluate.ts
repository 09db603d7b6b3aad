/**
 * The reference evaluator: what a resolved policy decides for one syscall. It defines the semantics the
 * compiled BPF must reproduce (the compiler's tests compare against it) and answers `explain`.
 *
 *   arch not listed            → badArchAction
 *   number not in ABI's table  → unknownAction
 *   first rule naming the syscall whose conditions all hold → its action
 *   otherwise                  → defaultAction
 */
import { ARCH_BITS, syscallName, type Arch } from '../syscalls/arch.js';
import type { Action } from './action.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from './ir.js';

export type DecisionSource = 'badArch' | 'unknown' | 'rule' | 'default';

export interface Decision {
  readonly action: Action;
  readonly decidedBy: DecisionSource;
  /** The matching rule, when decidedBy is 'rule'. */
  readonly rule?: PolicyRule;
  /** Its index in policy.rules. */
  readonly ruleIndex?: number;
}

/** A rule together with its position in policy.rules (precedence). */
export interface IndexedRule {
  readonly rule: PolicyRule;
  readonly index: number;
}

/** A rule with its conditions as a given ABI evaluates them (see conditionForAbi). */
interface AbiRule extends IndexedRule {
  readonly conditions: readonly ArgCondition[];
}

interface PolicyIndex {
  readonly architectures: ReadonlySet<Arch>;
  /** Syscall name → the rules naming it, in precedence order. */
  readonly rulesBySyscall: ReadonlyMap<string, readonly IndexedRule[]>;
  /** The same, with conditions as 64-bit and as 32-bit ABIs evaluate them. */
  readonly abiRules: Readonly<Record<32 | 64, ReadonlyMap<string, readonly AbiRule[]>>>;
}

const MASK_32 = 0xffffffffn;
const MASK_64 = 0xffffffffffffffffn;
const NO_RULES: readonly AbiRule[] = [];

// Built on first use per policy object; the IR is immutable, so the index never goes stale.
const indexes = new WeakMap<ResolvedPolicy, PolicyIndex>();

function policyIndex(policy: ResolvedPolicy): PolicyIndex {
  let index = indexes.get(policy);
  if (index === undefined) {
    index = buildIndex(policy);
    indexes.set(policy, index);
  }
  return index;
}

function buildIndex(policy: ResolvedPolicy): PolicyIndex {
  const rulesBySyscall = new Map<string, IndexedRule[]>();
  policy.rules.forEach((rule, index) => {
    for (const name of rule.syscalls) {
      const list = rulesBySyscall.get(name) ?? [];
      list.push({ rule, index });
      rulesBySyscall.set(name, list);
    }
  });
  return {
    architectures: new Set(policy.architectures),
    rulesBySyscall,
    abiRules: { 64: forAbiBits(rulesBySyscall, 64), 32: forAbiBits(rulesBySyscall, 32) },
  };
}

function forAbiBits(
  rulesBySyscall: ReadonlyMap<string, readonly IndexedRule[]>,
  bits: 32 | 64,
): ReadonlyMap<string, readonly AbiRule[]> {
  const narrow = (c: ArgCondition): ArgCondition => conditionForAbiBits(c, bits);
  return new Map(
    [...rulesBySyscall].map(([name, rules]) => [
      name,
      rules.map((r) => ({ ...r, conditions: r.rule.conditions.map(narrow) })),
    ]),
  );
}

/**
 * A condition as an ABI evaluates it. On 32-bit ABIs (i386, arm) the kernel passes the syscall only
 * the low 32 bits of each argument register, but seccomp_data carries the full register: a 64-bit
 * process entering through `int 0x80` can set the upper half to anything. So there every condition
 * compares the low word only, with eq/ne/masked_eq constants cut to 32 bits (as libseccomp does, so -1
 * still means 0xffffffff); comparing all 64 bits would let `socket(0x1_00000026)` slip past a rule
 * denying `socket(38)`. Orderings against wider constants are folded (wideOrderingOn32Bits).
 */
export function conditionForAbi(condition: ArgCondition, arch: Arch): ArgCondition {
  return conditionForAbiBits(condition, ARCH_BITS[arch]);
}

function conditionForAbiBits(condition: ArgCondition, bits: 32 | 64): ArgCondition {
  if (bits === 64 || condition.width === 32) return condition;
  if (condition.value > MASK_32 && isOrdering(condition.op)) return wideOrderingOn32Bits(condition);
  const mask = condition.mask === undefined ? {} : { mask: condition.mask & MASK_32 };
  return { ...condition, ...mask, width: 32, value: condition.value & MASK_32 };
}

function isOrdering(op: ArgOp): boolean {
  return op === 'lt' || op === 'le' || op === 'gt' || op === 'ge';
}

/**
 * An ordering against a constant above 2^32-1 decides every 32-bit argument the same way: lt/le always
 * hold, gt/ge never do. Cutting the constant (as for eq, where -1 must still mean 0xffffffff) would turn
 * `lt 0x1_00000010` into `lt 0x10` and let a deny rule cover far fewer values, so it becomes the
 * equivalent 32-bit condition instead, which the compiler folds.
 */
function wideOrderingOn32Bits(condition: ArgCondition): ArgCondition {
  const alwaysHolds = condition.op === 'lt' || condition.op === 'le';
  return { index: condition.index, width: 32, op: alwaysHolds ? 'le' : 'gt', value: MASK_32 };
}

/** The rules that name `syscall`, in precedence order (first match wins among them). */
export function rulesForSyscall(policy: ResolvedPolicy, syscall: string): readonly IndexedRule[] {
  return policyIndex(policy).rulesBySyscall.get(syscall) ?? NO_RULES;
}

/** Decides one syscall: `args` are the six argument registers as unsigned (or signed) 64-bit values. */
export function decide(policy: ResolvedPolicy, arch: Arch, nr: number, args: readonly bigint[]): Decision {
  const index = policyIndex(policy);
  if (!index.architectures.has(arch)) return { action: policy.badArchAction, decidedBy: 'badArch' };
  const name = syscallName(arch, nr);
  if (name === undefined) return { action: policy.unknownAction, decidedBy: 'unknown' };
  for (const { rule, index: ruleIndex, conditions } of index.abiRules[ARCH_BITS[arch]].get(name) ??
    NO_RULES) {
    if (conditionsHold(conditions, args)) return { action: rule.action, decidedBy: 'rule', rule, ruleIndex };
  }
  return { action: policy.defaultAction, decidedBy: 'default' };
}

/** True when every condition of the rule holds (a rule without conditions always matches its syscalls). */
export function ruleMatches(rule: PolicyRule, args: readonly bigint[]): boolean {
  return conditionsHold(rule.conditions, args);
}

function conditionsHold(conditions: readonly ArgCondition[], args: readonly bigint[]): boolean {
  for (const condition of conditions) {
    if (!conditionHolds(condition, args)) return false;
  }
  return true;
}

/**
 * Evaluates one argument condition. Width 32 looks only at the low 32 bits (the kernel ignores the
 * upper half of an int argument); width 64 compares the full unsigned 64-bit value. A missing
 * argument reads as 0.
 */
export function conditionHolds(condition: ArgCondition, args: readonly bigint[]): boolean {
  const raw = args[condition.index] ?? 0n;
  const arg = raw & (condition.width === 32 ? MASK_32 : MASK_64);
  const value = condition.value;
  switch (condition.op) {
    case 'eq':
      return arg === value;
    case 'ne':
      return arg !== value;
    case 'lt':
      return arg < value;
    case 'le':
      return arg <= value;
    case 'gt':
      return arg > value;
    case 'ge':
      return arg >= value;
    case 'masked_eq':
      return (arg & (condition.mask ?? MASK_64)) === value;
  }
}
