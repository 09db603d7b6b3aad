/**
 * Structural lints: architecture coverage, the choice of fallback actions, kill_thread, and rules that
 * cannot change any decision (shadowed by an earlier unconditional rule, or restating the default).
 */
import { ARCHES, kernelAbis, type Arch } from '../syscalls/arch.js';
import { errnoNumber } from '../syscalls/errno.js';
import { actionsEqual, type Action } from './action.js';
import { rulesForSyscall } from './evaluate.js';
import { finding, type Finding } from './lint-catalogue.js';
import { actionText, isUnconditional, letsThrough, selectorsText } from './lint-decisions.js';
import type { PolicyRule, ResolvedPolicy } from './ir.js';

/** The native ABI whose kernel also runs `abi` (i386 and x32 → x86_64, arm → aarch64); undefined if native. */
function hostingAbi(abi: Arch): Arch | undefined {
  return ARCHES.find(
    (native) => native !== abi && kernelAbis(native)[0] === native && kernelAbis(native).includes(abi),
  );
}

/** The compat ABIs that kernels of the policy's native ABIs run but the policy does not list. */
function uncoveredCompatAbis(policy: ResolvedPolicy): Arch[] {
  const listed = new Set(policy.architectures);
  const natives = policy.architectures.filter((arch) => hostingAbi(arch) === undefined);
  const uncovered = natives.flatMap((native) => kernelAbis(native).filter((abi) => !listed.has(abi)));
  return [...new Set(uncovered)];
}

/** bad-arch-allows, arch-not-covered and arch-compat-listed. */
export function lintArchitectures(policy: ResolvedPolicy): Finding[] {
  const findings: Finding[] = [];
  const uncovered = uncoveredCompatAbis(policy);
  const badArch = actionText(policy.badArchAction);
  if (uncovered.length > 0 && letsThrough(policy.badArchAction)) {
    findings.push(
      finding('bad-arch-allows', {
        message: `badArchAction is ${badArch}: syscalls through ${uncovered.join(', ')} bypass the filter`,
      }),
    );
  } else if (policy.badArchAction.kind !== 'kill_process') {
    for (const abi of uncovered) {
      findings.push(
        finding('arch-not-covered', {
          message: `${abi} is not listed and badArchAction is ${badArch}, not kill_process`,
        }),
      );
    }
  }
  const listed = new Set(policy.architectures);
  for (const abi of policy.architectures) {
    const native = hostingAbi(abi);
    if (native !== undefined && listed.has(native)) {
      findings.push(
        finding('arch-compat-listed', { message: `compat ABI ${abi} is listed next to ${native}` }),
      );
    }
  }
  return findings;
}

/** The policy-level actions, named as in the policy file. */
function fallbackActions(policy: ResolvedPolicy): ReadonlyArray<readonly [string, Action]> {
  return [
    ['defaultAction', policy.defaultAction],
    ['unknownAction', policy.unknownAction],
    ['badArchAction', policy.badArchAction],
  ];
}

/** kill-thread for each rule and each fallback action that uses it. */
export function lintKillThread(policy: ResolvedPolicy): Finding[] {
  const inRules = policy.rules
    .filter((rule) => rule.action.kind === 'kill_thread')
    .map((rule) =>
      finding('kill-thread', { rule, message: `rule for ${selectorsText(rule)} uses kill_thread` }),
    );
  const inFallbacks = fallbackActions(policy)
    .filter(([, action]) => action.kind === 'kill_thread')
    .map(([field]) => finding('kill-thread', { message: `${field} is kill_thread` }));
  return [...inFallbacks, ...inRules];
}

/** unknown-action-not-enosys. */
export function lintUnknownAction(policy: ResolvedPolicy): Finding[] {
  const action = policy.unknownAction;
  if (action.kind === 'errno' && action.errno === errnoNumber('ENOSYS')) return [];
  const passes = letsThrough(action) ? ': syscalls newer than the table run unfiltered' : '';
  return [
    finding('unknown-action-not-enosys', { message: `unknownAction is ${actionText(action)}${passes}` }),
  ];
}

/** The first unconditional rule before position `index` naming `name`: rule `index` never sees `name`. */
function shadowingRule(policy: ResolvedPolicy, name: string, index: number): PolicyRule | undefined {
  return rulesForSyscall(policy, name).find(
    (earlier) => earlier.index < index && isUnconditional(earlier.rule),
  )?.rule;
}

/** True when every rule after position `index` naming `name` has the default action too. */
function laterRulesAgreeWithDefault(policy: ResolvedPolicy, name: string, index: number): boolean {
  return rulesForSyscall(policy, name).every(
    (other) => other.index <= index || actionsEqual(other.rule.action, policy.defaultAction),
  );
}

/** rule-shadowed (every syscall decided earlier) and rule-equals-default (removing the rule changes nothing). */
export function lintDeadRules(policy: ResolvedPolicy): Finding[] {
  const findings: Finding[] = [];
  policy.rules.forEach((rule, index) => {
    const dead = deadRuleFinding(policy, rule, index);
    if (dead !== undefined) findings.push(dead);
  });
  return findings;
}

function deadRuleFinding(policy: ResolvedPolicy, rule: PolicyRule, index: number): Finding | undefined {
  const what = `rule for ${selectorsText(rule)}`;
  if (
    rule.syscalls.length > 0 &&
    rule.syscalls.every((name) => shadowingRule(policy, name, index) !== undefined)
  ) {
    const shadow = shadowingRule(policy, rule.syscalls[0] as string, index);
    const by =
      shadow === undefined ? '' : ` (e.g. the rule at ${shadow.location.file}:${shadow.location.line})`;
    return finding('rule-shadowed', {
      rule,
      message: `${what} never matches: earlier unconditional rules decide all its syscalls${by}`,
    });
  }
  // A rule that restates the default matters only if some later rule for one of its syscalls would
  // decide differently: the rule then stops that later rule (web.yaml's "socket: errno" before @network-io).
  if (
    actionsEqual(rule.action, policy.defaultAction) &&
    rule.syscalls.every((name) => laterRulesAgreeWithDefault(policy, name, index))
  ) {
    return finding('rule-equals-default', {
      rule,
      message: `${what} has the default action ${actionText(rule.action)} and changes no decision`,
    });
  }
  return undefined;
}
