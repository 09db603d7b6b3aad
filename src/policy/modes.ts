/**
 * Rollout modes: pure transforms of a resolved policy, applied before compiling it for `sysfence run`.
 *
 * - enforce: the policy as written.
 * - log: every action that would stop a syscall (errno, kill_process, kill_thread, trap, trace, notify)
 *   becomes LOG, including defaultAction, unknownAction and badArchAction, so nothing breaks and
 *   everything unexpected reaches the audit log (the first rollout stage).
 *   badArchAction is converted too, deliberately: in log mode every syscall of the declared ABIs is
 *   already allowed, so keeping a kill for a foreign ABI would protect nothing while breaking exactly
 *   the workloads (e.g. one that runs an i386 helper) whose needs the log stage exists to discover;
 *   the LOG records name the foreign AUDIT_ARCH so the operator can decide to add or forbid it.
 *   trace and notify count as stopping actions: with no tracer or listener attached (as under
 *   `sysfence run`) the kernel fails the syscall with ENOSYS.
 * - tiered: rules of tier 'tolerated' become LOG (allowed and recorded); everything else, including
 *   the default and bad-arch actions, stays as written, so dangerous syscalls are still denied or killed.
 */
import type { Action } from './action.js';
import type { PolicyRule, ResolvedPolicy } from './ir.js';

export type RolloutMode = 'enforce' | 'log' | 'tiered';

export const ROLLOUT_MODES: readonly RolloutMode[] = ['enforce', 'log', 'tiered'];

const LOG: Action = { kind: 'log' };

/** Parses a --mode value; throws naming the accepted modes for anything else. */
export function parseMode(text: string): RolloutMode {
  if ((ROLLOUT_MODES as readonly string[]).includes(text)) return text as RolloutMode;
  throw new Error(`unknown mode '${text}' (${ROLLOUT_MODES.join(', ')})`);
}

/** True for actions after which the syscall does not run (or the caller dies). */
export function stopsSyscall(action: Action): boolean {
  return action.kind !== 'allow' && action.kind !== 'log';
}

/** LOG in place of any action that stops a syscall; allow and log are kept. */
function logInsteadOfStopping(action: Action): Action {
  return stopsSyscall(action) ? LOG : action;
}

function withAction(rule: PolicyRule, action: Action): PolicyRule {
  return action === rule.action ? rule : { ...rule, action };
}

/**
 * In tiered mode a tolerated rule that allows is logged instead, so its use is recorded; a tolerated rule
 * that stops its syscall (errno, kill, trap...) keeps its action: a tier must never loosen a denial.
 */
function tieredAction(rule: PolicyRule): Action {
  return rule.tier === 'tolerated' && rule.action.kind === 'allow' ? LOG : rule.action;
}

/** The policy a rollout mode enforces; the input is never modified. */
export function applyMode(policy: ResolvedPolicy, mode: RolloutMode): ResolvedPolicy {
  switch (mode) {
    case 'enforce':
      return policy;
    case 'log':
      return {
        ...policy,
        defaultAction: logInsteadOfStopping(policy.defaultAction),
        unknownAction: logInsteadOfStopping(policy.unknownAction),
        badArchAction: logInsteadOfStopping(policy.badArchAction),
        rules: policy.rules.map((rule) => withAction(rule, logInsteadOfStopping(rule.action))),
      };
    case 'tiered':
      return {
        ...policy,
        rules: policy.rules.map((rule) => withAction(rule, tieredAction(rule))),
      };
  }
}
