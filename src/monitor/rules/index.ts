/** The built-in rules, in BUILTIN_RULE_IDS order. */
import { BUILTIN_RULE_IDS } from '../alert.js';
import { baselineDeviationRule } from './baseline-deviation.js';
import { dropperExecRule } from './dropper-exec.js';
import { ptraceInjectRule } from './ptrace-inject.js';
import { rateBreakerRule } from './rate-breaker.js';
import type { RuleDefinition } from './rule.js';
import { spawnBurstRule } from './spawn-burst.js';
import { timeTamperRule } from './time-tamper.js';
import { vforkExecRule } from './vfork-exec.js';

export const BUILTIN_RULES: readonly RuleDefinition[] = [
  rateBreakerRule,
  baselineDeviationRule,
  dropperExecRule,
  spawnBurstRule,
  vforkExecRule,
  ptraceInjectRule,
  timeTamperRule,
];

// A rule added to alert.ts's id list without an implementation (or the reverse) is a bug to catch at load.
if (BUILTIN_RULES.map((rule) => rule.id).join() !== BUILTIN_RULE_IDS.join()) {
  throw new Error('BUILTIN_RULES does not match BUILTIN_RULE_IDS');
}

/** The definition of a built-in rule id, or undefined. */
export function ruleDefinition(id: string): RuleDefinition | undefined {
  return BUILTIN_RULES.find((rule) => rule.id === id);
}
