/**
 * Draft rules for observed calls, shared by `learn` (whole policies) and the log-mode rollout
 * (additions): an argument rule per observed value where the arguments are learned, and comments that
 * tell the reviewer how often, in how many runs, by whom, and how risky.
 */
import { riskOf } from '../syscalls/risk.js';
import { conditionsFor, conditionText } from './learned-conditions.js';
import type { ObservedCall, SyscallUsage } from './observed.js';
import type { DraftRule } from './policy-text.js';

/** `RISK high (namespace): ...`, or undefined for a syscall outside the risk catalogue. */
export function riskNote(syscall: string): string | undefined {
  const risk = riskOf(syscall);
  return risk === undefined ? undefined : `RISK ${risk.level} (${risk.category}): ${risk.reason}`;
}

/** What a description may use of an observed call (or of all calls of a syscall). */
export type Seen = Pick<
  ObservedCall,
  'count' | 'runs' | 'abis' | 'firstSeen' | 'lastSeen' | 'exes' | 'containers'
>;

/** What to say about an observed call in a reason or comment. */
export type Describe = (seen: Seen) => string;

/** How a rule describes its calls: a short note for the comment above it, the full account for its reason. */
export interface Describers {
  readonly note: Describe;
  readonly reason: Describe;
}

/** One allow rule per observed set of argument values of a narrowable syscall. */
export function argumentRules(
  usage: SyscallUsage,
  describe: Describers,
  extraComments: readonly string[] = [],
): DraftRule[] {
  const risk = riskNote(usage.name);
  return usage.calls.map((call: ObservedCall) => {
    const conditions = conditionsFor(usage.name, call.args, call.abis);
    const what = conditions.map(conditionText).join(', ');
    return {
      comments: [
        `${usage.name} with ${what}: ${describe.note(call)}`,
        ...(risk ? [risk] : []),
        ...extraComments,
      ],
      syscalls: [{ name: usage.name }],
      action: 'allow',
      conditions,
      reason: `${usage.name} with ${what}: ${describe.reason(call)}`,
    };
  });
}

/** The note for a syscall allowed without argument checks: counts, and why not narrower or how risky. */
export function unconditionalNote(usage: SyscallUsage, describe: Describe): string {
  const notes = [describe(usage)];
  if (usage.argumentsMissing) notes.push('arguments not recorded by the source, so not narrowed');
  const risk = riskOf(usage.name);
  if (risk !== undefined) notes.push(`RISK ${risk.level} (${risk.category})`);
  return notes.join('; ');
}
