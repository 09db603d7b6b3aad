/**
 * Log-mode rollout: after `sysfence run --mode log`, the audit log holds every call the policy would
 * have stopped. This finds, for the current policy (decided with the reference evaluator on each
 * event's arguments), the calls it does not allow, and drafts the rules that would: counts, who called,
 * from which containers, first and last seen, and what the policy decides today.
 */
import { formatAction, type Action } from '../policy/action.js';
import { decide, rulesForSyscall, type DecisionSource } from '../policy/evaluate.js';
import type { PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { stopsSyscall } from '../policy/modes.js';
import type { SyscallEvent } from '../sources/event.js';
import { syscallName, type Arch } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { isRisky } from '../syscalls/risk.js';
import {
  containerMatches,
  isNameable,
  observedCalls,
  syscallUsages,
  unnameableText,
  type Narrowing,
  type ObservedCall,
  type SyscallUsage,
} from './observed.js';
import { eventExecutable, learnedValuesOf, traceFromEvents, type Trace, type TraceArg } from './trace.js';

export interface EventSelection extends Narrowing {
  /** Only events at or after this time (ms since the epoch). */
  readonly since?: number;
}

/** The events a selection keeps: inside the window, of the executable and container asked for. */
export function selectEvents(events: Iterable<SyscallEvent>, selection: EventSelection): SyscallEvent[] {
  const { since, exe, container } = selection;
  const kept: SyscallEvent[] = [];
  for (const event of events) {
    if (since !== undefined && event.time < since) continue;
    if (exe !== undefined && eventExecutable(event) !== exe) continue;
    if (
      container !== undefined &&
      !(event.containerId !== undefined && containerMatches(event.containerId, container))
    ) {
      continue;
    }
    kept.push(event);
  }
  return kept;
}

/**
 * What the current policy decides for a call, as the proposal reports it. `unrecorded-arguments`: the
 * policy decides the syscall by an argument the event does not carry (audit's SECCOMP records carry
 * none), so the decision is not known; `action` is then what the kernel logged, when the event says.
 */
export type CurrentDecision =
  | { readonly action: Action; readonly decidedBy: DecisionSource; readonly rule?: PolicyRule }
  | { readonly action?: Action; readonly decidedBy: 'unrecorded-arguments'; readonly rule?: undefined };

/** One syscall the current policy does not allow, with the observed calls a new rule would cover. */
export interface ProposedAddition {
  readonly usage: SyscallUsage;
  /** What the policy decides today, per distinct decision (usually one). */
  readonly current: readonly CurrentDecision[];
  /**
   * Why the addition needs a deliberate decision, when it does: a risk-catalogue syscall, a call an
   * explicit rule denies, or an ABI the policy does not list. Such additions are proposed commented out.
   */
  readonly reviewOnly?: string;
}

export interface RolloutProposal {
  readonly policy: ResolvedPolicy;
  /** Events in the window and narrowing. */
  readonly considered: number;
  /** Of those, events the policy does not allow. */
  readonly notAllowed: number;
  readonly trace: Trace;
  readonly additions: readonly ProposedAddition[];
  /** Calls no rule can name (numbers the tables do not know): unknownAction decides them. */
  readonly unnameable: readonly string[];
  /** ABIs of not-allowed events that the policy does not list. */
  readonly unlistedAbis: readonly Arch[];
}

/** `errno(EPERM) by defaultAction`, `kill_process by rule of layer base at base.yaml:12:5`. */
export function decisionText(decision: CurrentDecision): string {
  if (decision.decidedBy === 'unrecorded-arguments') {
    const logged =
      decision.action === undefined
        ? ''
        : ` (the kernel's action: ${formatAction(decision.action, errnoName)})`;
    return `not known: the policy decides by arguments the source did not record${logged}`;
  }
  const action = formatAction(decision.action, errnoName);
  if (decision.rule === undefined) {
    const setting = {
      badArch: 'badArchAction',
      unknown: 'unknownAction',
      default: 'defaultAction',
      rule: 'a rule',
    };
    return `${action} by ${setting[decision.decidedBy]}`;
  }
  const { file, line, column } = decision.rule.location;
  return `${action} by a rule of layer ${decision.rule.layer} at ${file}:${line}:${column}`;
}

function decisionKey(syscall: string, args: readonly TraceArg[]): string {
  return JSON.stringify([syscall, args]);
}

function isAllowed(action: Action): boolean {
  return action.kind === 'allow';
}

function reviewReason(
  usage: SyscallUsage,
  current: readonly CurrentDecision[],
  listed: readonly Arch[],
): string | undefined {
  if (isRisky(usage.name)) return `${usage.name} is in the risk catalogue`;
  if (current.some((decision) => decision.decidedBy === 'unrecorded-arguments')) {
    return `the policy narrows ${usage.name} by arguments the log did not record`;
  }
  const explicit = current.find(
    (decision) =>
      decision.rule !== undefined && decision.action !== undefined && stopsSyscall(decision.action),
  );
  if (explicit !== undefined) return `an explicit rule denies it (${decisionText(explicit)})`;
  const unlisted = usage.abis.filter((abi) => !listed.includes(abi));
  if (unlisted.length > 0)
    return `seen on ${unlisted.join(', ')}, which the policy does not list in architectures`;
  return undefined;
}

function addDecision(
  decisions: Map<string, CurrentDecision[]>,
  key: string,
  decision: CurrentDecision,
): void {
  const list = decisions.get(key) ?? [];
  const same = list.some(
    (known) =>
      known.decidedBy === decision.decidedBy &&
      known.rule === decision.rule &&
      (known.action === undefined ? '' : formatAction(known.action)) ===
        (decision.action === undefined ? '' : formatAction(decision.action)),
  );
  if (!same) list.push(decision);
  decisions.set(key, list);
}

/** True when a rule for the event's syscall tests an argument the event does not carry. */
function needsUnrecordedArgument(policy: ResolvedPolicy, event: SyscallEvent): boolean {
  const recorded = event.args?.length ?? 0;
  const name = event.syscall ?? syscallName(event.arch, event.nr);
  if (name === undefined) return false;
  return rulesForSyscall(policy, name).some(({ rule }) => rule.conditions.some((c) => c.index >= recorded));
}

/**
 * What the policy decides for the event, or undefined when it allows it. When the decision hangs on an
 * argument the event lacks, reading the missing argument as 0 could call a namespace-creating clone
 * "allowed": such events always count as not allowed, and their additions are for review only.
 */
function currentDecision(policy: ResolvedPolicy, event: SyscallEvent): CurrentDecision | undefined {
  if (policy.architectures.includes(event.arch) && needsUnrecordedArgument(policy, event)) {
    return {
      decidedBy: 'unrecorded-arguments',
      ...(event.action === undefined ? {} : { action: event.action }),
    };
  }
  const decision = decide(policy, event.arch, event.nr, event.args ?? []);
  if (isAllowed(decision.action)) return undefined;
  return {
    action: decision.action,
    decidedBy: decision.decidedBy,
    ...(decision.rule === undefined ? {} : { rule: decision.rule }),
  };
}

/**
 * Proposes additions to `policy` for the selected events it does not allow (log and tolerated rules
 * count as not allowed: the proposal promotes what the log shows is needed).
 */
export function proposeAdditions(
  events: Iterable<SyscallEvent>,
  policy: ResolvedPolicy,
  selection: EventSelection = {},
): RolloutProposal {
  const selected = selectEvents(events, selection);
  const decisions = new Map<string, CurrentDecision[]>();
  const notAllowed = selected.filter((event) => {
    const decision = currentDecision(policy, event);
    if (decision === undefined) return false;
    const syscall = event.syscall ?? `nr:${event.nr}`;
    addDecision(decisions, decisionKey(syscall, learnedValuesOf(syscall, event.args, event.arch)), decision);
    return true;
  });
  const trace = traceFromEvents(notAllowed);
  const nameable = trace.entries.filter(isNameable);
  const additions = syscallUsages(observedCalls(nameable)).map((usage) => {
    const current = usage.calls.flatMap((call) => decisions.get(decisionKey(usage.name, call.args)) ?? []);
    const reviewOnly = reviewReason(usage, current, policy.architectures);
    return { usage, current, ...(reviewOnly === undefined ? {} : { reviewOnly }) };
  });
  return {
    policy,
    considered: selected.length,
    notAllowed: notAllowed.length,
    trace,
    additions,
    unnameable: [...new Set(trace.entries.filter((e) => !isNameable(e)).map(unnameableText))].sort(),
    unlistedAbis: [...new Set(notAllowed.map((event) => event.arch))].filter(
      (abi) => !policy.architectures.includes(abi),
    ),
  };
}

/** The observed calls of the additions a patch enables (review-only ones stay commented out). */
export function enabledCalls(proposal: RolloutProposal): ObservedCall[] {
  return proposal.additions
    .filter((addition) => addition.reviewOnly === undefined)
    .flatMap((addition) => [...addition.usage.calls]);
}
