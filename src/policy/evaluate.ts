/**
 * The reference evaluator: what a resolved policy decides for one syscall. It defines the semantics the
 * compiled BPF must reproduce (the compiler's tests compare against it) and answers `explain`.
 *
 *   arch not listed            → badArchAction
 *   number not in ABI's table  → unknownAction
 *   first rule naming the syscall whose conditions all hold → its action
 *   otherwise                  → defaultAction
 */
import { syscallName, type Arch } from '../syscalls/arch.js';
import type { Action } from './action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from './ir.js';

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

interface PolicyIndex {
  readonly architectures: ReadonlySet<Arch>;
  /** Syscall name → the rules naming it, in precedence order. */
  readonly rulesBySyscall: ReadonlyMap<string, readonly IndexedRule[]>;
}

const MASK_32 = 0xffffffffn;
const MASK_64 = 0xffffffffffffffffn;
const NO_RULES: readonly IndexedRule[] = [];

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
  return { architectures: new Set(policy.architectures), rulesBySyscall };
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
  for (const { rule, index: ruleIndex } of index.rulesBySyscall.get(name) ?? NO_RULES) {
    if (ruleMatches(rule, args)) return { action: rule.action, decidedBy: 'rule', rule, ruleIndex };
  }
  return { action: policy.defaultAction, decidedBy: 'default' };
}

/** True when every condition of the rule holds (a rule without conditions always matches its syscalls). */
export function ruleMatches(rule: PolicyRule, args: readonly bigint[]): boolean {
  for (const condition of rule.conditions) {
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
