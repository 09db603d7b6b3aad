/**
 * What the linter needs to know about how a policy decides one syscall, read from the IR alone:
 * which rules can still decide it (first match wins, so an unconditional rule ends the list) and
 * whether the outcome can let the call through. Lints ask these questions; none re-walks the rules.
 */
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { formatAction, type Action } from './action.js';
import { rulesForSyscall } from './evaluate.js';
import type { PolicyRule, ResolvedPolicy } from './ir.js';

/** One way a syscall can be decided: by a reachable rule, or by the default action when no rule matched. */
export interface Outcome {
  readonly action: Action;
  /** Undefined: the policy's defaultAction decided. */
  readonly rule?: PolicyRule;
  /** True when the rule matches only some argument values, so later outcomes stay reachable. */
  readonly conditional: boolean;
}

/** An action as policies spell it, errno by name: errno(EPERM). */
export function actionText(action: Action): string {
  return formatAction(action, errnoName);
}

/** Selectors shown in a message; long lists are cut (the finding's location shows the whole rule). */
const MAX_SELECTORS_SHOWN = 4;

/** A rule's selectors for a message: `ptrace, kcmp` or `accept, accept4, access and 310 more`. */
export function selectorsText(rule: PolicyRule): string {
  const { selectors } = rule;
  if (selectors.length <= MAX_SELECTORS_SHOWN) return selectors.join(', ');
  const shown = selectors.slice(0, MAX_SELECTORS_SHOWN - 1).join(', ');
  return `${shown} and ${selectors.length - MAX_SELECTORS_SHOWN + 1} more`;
}

/** allow and log both let the call run; log only leaves a trace of it. */
export function letsThrough(action: Action): boolean {
  return action.kind === 'allow' || action.kind === 'log';
}

/** True when a rule matches its syscalls whatever the arguments. */
export function isUnconditional(rule: PolicyRule): boolean {
  return rule.conditions.length === 0;
}

/**
 * The outcomes that can decide `name`, in precedence order: every rule naming it up to and including
 * the first unconditional one, then the default action if no unconditional rule ended the list.
 */
export function outcomesFor(policy: ResolvedPolicy, name: string): readonly Outcome[] {
  const outcomes: Outcome[] = [];
  for (const { rule } of rulesForSyscall(policy, name)) {
    outcomes.push({ action: rule.action, rule, conditional: !isUnconditional(rule) });
    if (isUnconditional(rule)) return outcomes;
  }
  outcomes.push({ action: policy.defaultAction, conditional: false });
  return outcomes;
}

/** How a syscall fares overall: never let through, let through for some arguments, or always let through. */
export type Exposure = 'denied' | 'partly' | 'allowed';

/** Whether the policy lets `name` through never, for some arguments, or always. */
export function exposureOf(policy: ResolvedPolicy, name: string): Exposure {
  const outcomes = outcomesFor(policy, name);
  const through = outcomes.filter((outcome) => letsThrough(outcome.action)).length;
  if (through === 0) return 'denied';
  return through === outcomes.length ? 'allowed' : 'partly';
}

/** The first outcome that lets `name` through (the rule to point a finding at), if any. */
export function firstLettingThrough(policy: ResolvedPolicy, name: string): Outcome | undefined {
  return outcomesFor(policy, name).find((outcome) => letsThrough(outcome.action));
}

/** The ABIs the policy filters on which `name` exists; a rule for a syscall an ABI lacks does nothing there. */
export function abisWith(policy: ResolvedPolicy, name: string): readonly Arch[] {
  return policy.architectures.filter((arch) => syscallNumber(arch, name) !== undefined);
}

/**
 * The first reachable rule that keeps `name` from running (for some or all arguments). Only explicit
 * rules count: a variant the default denies because nobody needed it (open, when libc uses openat) is
 * not an attempt to block the capability, so bypassing it through an equivalent call is no hole.
 */
export function restrictingRule(policy: ResolvedPolicy, name: string): PolicyRule | undefined {
  return outcomesFor(policy, name).find(
    (outcome) => outcome.rule !== undefined && !letsThrough(outcome.action),
  )?.rule;
}
