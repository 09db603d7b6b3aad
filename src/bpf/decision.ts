/**
 * Policy IR -> per-architecture decision intervals: every 32-bit syscall number an AUDIT_ARCH can carry
 * is mapped to a target (a fixed return value, or the argument checks of that syscall's conditional
 * rules), and adjacent numbers with the same target are merged. This is the whole meaning of the filter;
 * the tree and code generator only decide how fast a program finds an interval.
 */
import type { Action } from '../policy/action.js';
import { actionToRet } from '../policy/action.js';
import type { PolicyRule, ResolvedPolicy, SourceLocation } from '../policy/ir.js';
import type { Arch } from '../syscalls/arch.js';
import { AUDIT_ARCH, syscallEntries, X32_SYSCALL_BIT } from '../syscalls/arch.js';
import { conditionForAbi } from '../policy/evaluate.js';
import type { CheckedCondition } from './conditions.js';
import { conditionKey, foldCondition, validateCondition } from './conditions.js';
import { CompileError } from './compile-error.js';

/** One conditional rule of a syscall: if every condition holds, return `ret`. */
export interface ArgClause {
  readonly conditions: readonly CheckedCondition[];
  readonly ret: number;
}

/** What a syscall number leads to. `key` is equal exactly when two targets decide alike for every input. */
export type Target =
  | { readonly kind: 'ret'; readonly key: string; readonly ret: number }
  | {
      readonly kind: 'args';
      readonly key: string;
      /** First matching clause wins; none matching returns fallbackRet. */
      readonly clauses: readonly ArgClause[];
      readonly fallbackRet: number;
    };

/** Syscall numbers first..last (inclusive, unsigned 32-bit) all lead to one target. */
export interface NrInterval {
  readonly first: number;
  readonly last: number;
  readonly target: Target;
  /** Relative frequency, for the search tree's layout. */
  readonly weight: number;
  /** The ABI whose numbers these are (of the first, when merged across ABIs: then the target is a return). */
  readonly abi: Arch;
}

/** All numbers under one AUDIT_ARCH value (x86_64 and x32 share one), as sorted, merged intervals. */
export interface ArchGroup {
  readonly auditArch: number;
  readonly abis: readonly Arch[];
  readonly intervals: readonly NrInterval[];
}

export interface DecisionInput {
  readonly policy: ResolvedPolicy;
  /** The ABIs the program accepts, native first. */
  readonly abis: readonly Arch[];
  readonly nativeAbi: Arch;
  readonly profile?: ReadonlyMap<string, number>;
}

export interface Decisions {
  readonly groups: readonly ArchGroup[];
  readonly warnings: readonly string[];
}

const MAX_NR = 0xffffffff;
/** Weight of a syscall of a non-native ABI relative to a native one: compat calls are rare. */
const COMPAT_WEIGHT = 1 / 16;
/** Weight of a range of unassigned numbers relative to one syscall: only broken or probing code hits them. */
const GAP_WEIGHT = 1 / 256;
/** With a profile, unprofiled syscalls together weigh this share of the profiled ones (bounds their depth). */
const UNPROFILED_SHARE = 1 / 8;

/** A rule reduced to what decides: its folded conditions (null: can never match) and its return. */
interface PreparedRule {
  readonly conditions: readonly CheckedCondition[] | null;
  readonly ret: number;
}

type RulesByName = ReadonlyMap<string, readonly PreparedRule[]>;

/** Maps policy, ABIs and profile to per-AUDIT_ARCH intervals; throws CompileError on an invalid condition. */
export function buildDecisions(input: DecisionInput): Decisions {
  const warnings = new Set<string>();
  for (const rule of input.policy.rules) {
    validateAction(rule.action, rule.location);
    for (const condition of rule.conditions) validateCondition(condition, rule.location);
  }
  const rulesByAbi = new Map(
    input.abis.map((abi) => [abi, prepareRules(input.policy.rules, abi, warnings)] as const),
  );
  const targets = new TargetInterner(input.policy, rulesByAbi);
  const weigh = makeWeigher(input);
  const groups = groupAbis(input.abis).map((group) =>
    buildGroup(group.auditArch, group.abis, input, targets, weigh),
  );
  return { groups, warnings: [...warnings] };
}

/** Rules indexed by syscall name (in precedence order) with their conditions as the ABI sees them, folded. */
function prepareRules(rules: readonly PolicyRule[], abi: Arch, warnings: Set<string>): RulesByName {
  const byName = new Map<string, PreparedRule[]>();
  for (const rule of rules) {
    const prepared: PreparedRule = {
      conditions: foldRuleConditions(rule, abi, warnings),
      ret: actionToRet(rule.action),
    };
    for (const name of new Set(rule.syscalls)) {
      const list = byName.get(name) ?? [];
      list.push(prepared);
      byName.set(name, list);
    }
  }
  return byName;
}

/**
 * The rule's conditions that still need checking, deduplicated and sorted by argument; null if one never
 * holds. On 32-bit ABIs conditions compare the low word only (the reference evaluator's conditionForAbi).
 */
function foldRuleConditions(rule: PolicyRule, abi: Arch, warnings: Set<string>): CheckedCondition[] | null {
  const kept = new Map<string, CheckedCondition>();
  for (const condition of rule.conditions) {
    const folded = foldCondition(conditionForAbi(condition, abi));
    if (folded === false) {
      // Say "on 32-bit ABIs" only when it is the cut to the low word that makes the condition impossible.
      const where32 = foldCondition(condition) === false ? '' : ' on 32-bit ABIs (low word only)';
      warnings.add(
        `${where(rule.location)}: condition on arg${condition.index} (${condition.op} ${condition.value}) can never hold` +
          `${where32}; the rule for ${rule.selectors.join(', ')} never matches${where32 ? ' there' : ''}`,
      );
      return null;
    }
    if (folded !== true) kept.set(conditionKey(folded), folded);
  }
  // Conditions are ANDed and side-effect free, so order is free: grouping by argument lets loads be reused.
  return [...kept.values()].sort((a, b) => a.index - b.index);
}

/** Rejects action data the kernel would truncate or reinterpret (errno above MAX_ERRNO, data over 16 bits). */
export function validateAction(action: Action, location?: SourceLocation): void {
  const check = (what: string, value: number, max: number): void => {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new CompileError(`invalid action: ${what} ${value} is outside 0..${max}`, location);
    }
  };
  if (action.kind === 'errno') check('errno', action.errno, 4095);
  if (action.kind === 'trap' || action.kind === 'trace') check(`${action.kind} data`, action.data, 0xffff);
}

function where(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

/** Builds each syscall's target once and hands out one object per distinct key. */
class TargetInterner {
  private readonly byKey = new Map<string, Target>();
  private readonly byName = new Map<string, Target>();
  private readonly defaultRet: number;

  constructor(
    policy: ResolvedPolicy,
    private readonly rulesByAbi: ReadonlyMap<Arch, RulesByName>,
  ) {
    validateAction(policy.defaultAction);
    validateAction(policy.unknownAction);
    validateAction(policy.badArchAction);
    this.defaultRet = actionToRet(policy.defaultAction);
  }

  /** The target of a fixed return value. */
  ret(ret: number): Target {
    return this.intern({ kind: 'ret', key: `ret:${ret}`, ret });
  }

  /** The target of a named syscall of an ABI: its rules in precedence order, first match wins, else the default. */
  forSyscall(abi: Arch, name: string): Target {
    const cacheKey = `${abi}:${name}`;
    const cached = this.byName.get(cacheKey);
    if (cached) return cached;
    const target = this.build(this.rulesByAbi.get(abi)?.get(name) ?? []);
    this.byName.set(cacheKey, target);
    return target;
  }

  private build(rules: readonly PreparedRule[]): Target {
    const clauses: ArgClause[] = [];
    let fallbackRet = this.defaultRet;
    for (const rule of rules) {
      if (rule.conditions === null) continue;
      if (rule.conditions.length === 0) {
        fallbackRet = rule.ret;
        break;
      }
      clauses.push({ conditions: rule.conditions, ret: rule.ret });
    }
    // A last clause that returns what falling through returns changes nothing.
    while (clauses.length > 0 && clauses[clauses.length - 1]!.ret === fallbackRet) clauses.pop();
    if (clauses.length === 0) return this.ret(fallbackRet);
    const key = `args:${fallbackRet}|${clauses.map((c) => `${c.ret}(${c.conditions.map(conditionKey).join('&')})`).join(';')}`;
    return this.intern({ kind: 'args', key, clauses, fallbackRet });
  }

  private intern(target: Target): Target {
    const existing = this.byKey.get(target.key);
    if (existing) return existing;
    this.byKey.set(target.key, target);
    return target;
  }
}

/** Weight of one named syscall of an ABI: native calls outweigh compat ones; a profile adds observed counts. */
type Weigher = (abi: Arch, name: string) => number;

function makeWeigher(input: DecisionInput): { readonly named: Weigher; readonly gap: number } {
  const scale = (abi: Arch): number => (abi === input.nativeAbi ? 1 : COMPAT_WEIGHT);
  const profile = input.profile;
  const total = profile ? [...profile.values()].reduce((sum, count) => sum + Math.max(0, count), 0) : 0;
  if (!profile || total === 0) return { named: (abi) => scale(abi), gap: GAP_WEIGHT };
  const unprofiled = (total * UNPROFILED_SHARE) / Math.max(1, syscallEntries(input.nativeAbi).length);
  return {
    named: (abi, name) => scale(abi) * (Math.max(0, profile.get(name) ?? 0) + unprofiled),
    gap: unprofiled * GAP_WEIGHT,
  };
}

/** The ABIs sharing each AUDIT_ARCH value, in the order given (native first). */
function groupAbis(abis: readonly Arch[]): Array<{ auditArch: number; abis: Arch[] }> {
  const groups: Array<{ auditArch: number; abis: Arch[] }> = [];
  for (const abi of abis) {
    const group = groups.find((g) => g.auditArch === AUDIT_ARCH[abi]);
    if (group) group.abis.push(abi);
    else groups.push({ auditArch: AUDIT_ARCH[abi], abis: [abi] });
  }
  return groups;
}

/** Which ABI owns each number range under an AUDIT_ARCH (mirrors archForAudit). */
function ownerSegments(auditArch: number, fallback: Arch): Array<{ first: number; last: number; abi: Arch }> {
  if (auditArch !== AUDIT_ARCH.x86_64) return [{ first: 0, last: MAX_NR, abi: fallback }];
  // x32 numbers carry bit 30; 0xffffffff (-1, "skip this syscall" from ptrace) stays x86_64.
  return [
    { first: 0, last: X32_SYSCALL_BIT - 1, abi: 'x86_64' },
    { first: X32_SYSCALL_BIT, last: 0x7fffffff, abi: 'x32' },
    { first: 0x80000000, last: 0x80000000 + X32_SYSCALL_BIT - 1, abi: 'x86_64' },
    { first: 0xc0000000, last: MAX_NR - 1, abi: 'x32' },
    { first: MAX_NR, last: MAX_NR, abi: 'x86_64' },
  ];
}

function buildGroup(
  auditArch: number,
  abis: readonly Arch[],
  input: DecisionInput,
  targets: TargetInterner,
  weigh: { readonly named: Weigher; readonly gap: number },
): ArchGroup {
  const unknown = targets.ret(actionToRet(input.policy.unknownAction));
  const badArch = targets.ret(actionToRet(input.policy.badArchAction));
  const raw: NrInterval[] = [];
  for (const segment of ownerSegments(auditArch, abis[0]!)) {
    if (!abis.includes(segment.abi)) {
      raw.push({
        first: segment.first,
        last: segment.last,
        target: badArch,
        weight: weigh.gap,
        abi: segment.abi,
      });
      continue;
    }
    let next = segment.first;
    for (const [name, nr] of sortedEntries(segment.abi)) {
      if (nr < segment.first || nr > segment.last) continue;
      if (nr > next)
        raw.push({ first: next, last: nr - 1, target: unknown, weight: weigh.gap, abi: segment.abi });
      const target = targets.forSyscall(segment.abi, name);
      raw.push({ first: nr, last: nr, target, weight: weigh.named(segment.abi, name), abi: segment.abi });
      next = nr + 1;
    }
    if (next <= segment.last) {
      raw.push({ first: next, last: segment.last, target: unknown, weight: weigh.gap, abi: segment.abi });
    }
  }
  return { auditArch, abis, intervals: mergeIntervals(raw) };
}

function sortedEntries(abi: Arch): ReadonlyArray<readonly [string, number]> {
  return [...syscallEntries(abi)].sort((a, b) => a[1] - b[1]);
}

/** Joins neighbouring intervals that lead to the same target. */
function mergeIntervals(sorted: readonly NrInterval[]): NrInterval[] {
  const merged: NrInterval[] = [];
  for (const interval of sorted) {
    const previous = merged[merged.length - 1];
    if (previous && previous.target === interval.target && previous.last + 1 === interval.first) {
      merged[merged.length - 1] = {
        ...previous,
        last: interval.last,
        weight: previous.weight + interval.weight,
      };
    } else {
      merged.push(interval);
    }
  }
  return merged;
}
