/**
 * Why a policy decides what it does for one syscall: the deciding rule (or default/unknown/badArch),
 * the other rules naming the syscall that did not match (and which condition failed), and rules that
 * would have matched but are shadowed by an earlier one. The CLI's `explain` formats this.
 */
import { syscallName, type Arch } from '../syscalls/arch.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from './ir.js';
import { conditionForAbi, conditionHolds, decide, rulesForSyscall, type Decision } from './evaluate.js';
import { formatValue } from './values.js';

export interface ConditionFailure {
  /** Position of the condition in the rule's `args`. */
  readonly position: number;
  readonly condition: ArgCondition;
  /** The argument as the condition saw it (low 32 bits for width 32). */
  readonly seen: bigint;
}

export type RuleVerdict =
  | { readonly kind: 'decided' }
  | { readonly kind: 'not-matched'; readonly failures: readonly ConditionFailure[] }
  /** Its conditions hold, but an earlier rule already decided. */
  | { readonly kind: 'shadowed' };

export interface RuleExplanation {
  readonly rule: PolicyRule;
  /** Position in policy.rules (precedence order, 0-based). */
  readonly index: number;
  readonly verdict: RuleVerdict;
}

export interface Explanation {
  readonly arch: Arch;
  readonly nr: number;
  /** The syscall's name on this ABI; undefined when the table does not name the number. */
  readonly syscall?: string;
  readonly args: readonly bigint[];
  readonly decision: Decision;
  /** Every rule naming the syscall, in precedence order (empty for badArch and unknown decisions). */
  readonly rules: readonly RuleExplanation[];
}

const OP_SYMBOL: Readonly<Record<ArgOp, string>> = {
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  masked_eq: '==',
};

/** Explains the decision for syscall `nr` on `arch` with the given argument values. */
export function explainSyscall(
  policy: ResolvedPolicy,
  arch: Arch,
  nr: number,
  args: readonly bigint[],
): Explanation {
  const decision = decide(policy, arch, nr, args);
  const syscall = syscallName(arch, nr);
  const base = { arch, nr, args, decision, ...(syscall === undefined ? {} : { syscall }) };
  if (decision.decidedBy === 'badArch' || syscall === undefined) return { ...base, rules: [] };
  const rules = rulesForSyscall(policy, syscall).map(({ rule, index }) => ({
    rule,
    index,
    verdict: verdictFor(rule, index, decision, args, arch),
  }));
  return { ...base, rules };
}

function verdictFor(
  rule: PolicyRule,
  index: number,
  decision: Decision,
  args: readonly bigint[],
  arch: Arch,
): RuleVerdict {
  if (index === decision.ruleIndex) return { kind: 'decided' };
  const failures = failedConditions(rule, args, arch);
  return failures.length === 0 ? { kind: 'shadowed' } : { kind: 'not-matched', failures };
}

/** The rule's conditions that do not hold for these arguments, as the ABI compares them (conditionForAbi). */
export function failedConditions(
  rule: PolicyRule,
  args: readonly bigint[],
  arch: Arch,
): readonly ConditionFailure[] {
  const failures: ConditionFailure[] = [];
  rule.conditions.forEach((written, position) => {
    const condition = conditionForAbi(written, arch);
    if (conditionHolds(condition, args)) return;
    const raw = args[condition.index] ?? 0n;
    const seen = BigInt.asUintN(condition.width, raw);
    failures.push({ position, condition, seen });
  });
  return failures;
}

/** A condition as readable text: `arg1 & 0xf == 0x1 (32-bit)`, `arg0 == 0x2`. */
export function describeCondition(condition: ArgCondition): string {
  const arg = `arg${condition.index}`;
  const left = condition.op === 'masked_eq' ? `${arg} & ${formatValue(condition.mask ?? 0n)}` : arg;
  const width = condition.width === 32 ? ' (32-bit)' : '';
  return `${left} ${OP_SYMBOL[condition.op]} ${formatValue(condition.value)}${width}`;
}
