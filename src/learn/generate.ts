/**
 * Least-privilege policies from traces: every observed syscall is allowed (narrowed by its learned
 * arguments where it has them), everything else gets the default action, numbers newer than the table
 * ENOSYS, foreign ABIs are killed. The output is policy YAML text for review: a header saying how it
 * was learned, and per rule the counts and the share of runs that saw it.
 */
import { formatAction, type Action } from '../policy/action.js';
import { stopsSyscall } from '../policy/modes.js';
import type { Arch } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { argumentRules, unconditionalNote, type Describers } from './learned-rules.js';
import {
  abisOf,
  isNameable,
  narrowEntries,
  observedCalls,
  seenText,
  syscallUsages,
  unnameableText,
  type ObservedCall,
  type SyscallUsage,
} from './observed.js';
import { clone3Substitution, fallbackRules } from './fallbacks.js';
import { commentLines, renderRule, yamlString, type DraftRule } from './policy-text.js';
import { toleranceBudget, toleratedVariants, type ToleratedVariant } from './tolerance.js';
import type { Trace, TraceEntry } from './trace.js';

export interface GenerateOptions {
  /** The policy (layer) name. */
  readonly name: string;
  /** ABIs to write the policy for; default: the ABIs the trace saw. Entries of other ABIs are left out. */
  readonly arch?: readonly Arch[];
  /** Share of the allowed set (0..1) that tolerated variants may add; default 0 (no tolerance tier). */
  readonly tolerance?: number;
  /** Only entries of this executable. */
  readonly exe?: string;
  /** Only entries of this container (full id or a prefix of at least 12 characters). */
  readonly container?: string;
  /** For everything not observed; default errno(EPERM). Must stop the syscall (no allow, no log). */
  readonly defaultAction?: Action;
}

export interface GeneratedPolicy {
  /** The policy as YAML text. */
  readonly text: string;
  readonly architectures: readonly Arch[];
  /** Syscall names the policy allows because they were observed (some narrowed by arguments). */
  readonly allowed: readonly string[];
  /** The observed calls the policy allows (what `callsNotAllowed` checks it against; not clone3, see fallbacks.ts). */
  readonly observed: readonly ObservedCall[];
  /** The tolerance tier: logged, not observed. */
  readonly tolerated: readonly ToleratedVariant[];
  /** Observed calls no rule can name (`nr:335 on x86_64`): unknownAction decides them. */
  readonly unnameable: readonly string[];
}

export const DEFAULT_LEARNED_ACTION: Action = { kind: 'errno', errno: 1 };

function actionText(action: Action): string {
  return formatAction(action, errnoName);
}

/** The entries the options select; throws when nothing is left to learn from. */
function selectEntries(trace: Trace, options: GenerateOptions): TraceEntry[] {
  const narrowed = narrowEntries(trace.entries, options);
  const entries =
    options.arch === undefined ? narrowed : narrowed.filter((e) => options.arch?.includes(e.abi));
  if (entries.length === 0) {
    const filters = [
      options.exe === undefined ? '' : ` of executable ${options.exe}`,
      options.container === undefined ? '' : ` in container ${options.container}`,
      options.arch === undefined ? '' : ` on ${options.arch.join(', ')}`,
    ].join('');
    throw new Error(`the trace has no syscalls${filters} to learn from`);
  }
  return entries;
}

/** Who the workload is, for reasons: the executable, or how many there were. */
function workloadText(usageExes: readonly string[], options: GenerateOptions): string {
  const exe = options.exe ?? (usageExes.length === 1 ? usageExes[0] : undefined);
  const who = exe ?? (usageExes.length === 0 ? 'the workload' : `${usageExes.length} executables`);
  return options.container === undefined ? who : `${who} in container ${options.container}`;
}

function describers(trace: Trace, who: string): Describers {
  return {
    note: (seen) => seenText(seen.count, seen.runs, trace),
    reason: (seen) => `observed ${counted(seen.count, 'call')} in ${seen.runs}/${trace.runs} runs of ${who}`,
  };
}

/** `1 call`, `3 calls`. */
function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Unconditional allows, one rule per confidence level (runs that saw the call), most confident first. */
function groupRules(usages: readonly SyscallUsage[], trace: Trace, who: string): DraftRule[] {
  const byRuns = new Map<number, SyscallUsage[]>();
  for (const usage of usages) byRuns.set(usage.runs, [...(byRuns.get(usage.runs) ?? []), usage]);
  const { note } = describers(trace, who);
  return [...byRuns.entries()]
    .sort(([a], [b]) => b - a)
    .map(([runs, group]) => {
      const calls = group.reduce((sum, usage) => sum + usage.count, 0);
      const share = runs >= trace.runs ? `every run (${runs}/${trace.runs})` : `${runs}/${trace.runs} runs`;
      return {
        // A one-syscall rule carries its own note; a heading would only repeat it.
        comments: group.length === 1 ? [] : [`${group.length} syscalls seen in ${share}`],
        syscalls: group.map((usage) => ({ name: usage.name, note: unconditionalNote(usage, note) })),
        action: 'allow',
        conditions: [],
        reason: `observed in ${runs}/${trace.runs} runs of ${who} (${counted(group.length, 'syscall')}, ${counted(calls, 'call')})`,
      };
    });
}

function toleratedRule(variant: ToleratedVariant): DraftRule {
  return {
    comments: [`tolerated: ${variant.syscall} for ${variant.variantOf} (${variant.note})`],
    syscalls: [{ name: variant.syscall }],
    action: 'log',
    conditions: variant.conditions,
    tier: 'tolerated',
    reason: `not observed; low-risk variant of ${variant.variantOf} (seen ${variant.variantOfCount}×) that a libc or runtime upgrade may switch to`,
  };
}

/** First to last call of the selected entries (narrower than the trace's window under --exe). */
function windowText(entries: readonly TraceEntry[]): string {
  const first = entries.reduce(
    (earliest, entry) => Math.min(earliest, entry.firstSeen),
    Number.POSITIVE_INFINITY,
  );
  const last = entries.reduce((latest, entry) => Math.max(latest, entry.lastSeen), 0);
  if (first === 0 && last === 0) return 'no timestamps';
  return `${new Date(first).toISOString()} .. ${new Date(last).toISOString()}`;
}

interface Header {
  readonly trace: Trace;
  readonly entries: readonly TraceEntry[];
  readonly who: string;
  readonly exes: readonly string[];
  readonly architectures: readonly Arch[];
  readonly allowed: number;
  readonly tolerated: number;
  readonly tolerance: number;
  readonly unnameable: readonly string[];
}

function headerLines(header: Header): string[] {
  const { trace } = header;
  const lines = [
    `Learned by \`sysfence learn\` from ${trace.runs} recording(s) (runs) of ${header.who}.`,
    `Sources: ${trace.sources.join(', ') || 'unknown'}; hosts: ${trace.hosts.join(', ') || 'unknown'}.`,
    `Window: ${windowText(header.entries)}.`,
    ...(header.exes.length > 1 ? [`Executables: ${listText(header.exes)}.`] : []),
    `Allowed: ${header.allowed} syscall(s) as observed; "seen N× in R/${trace.runs} runs" says how often and how consistently.`,
  ];
  if (header.tolerance > 0) {
    lines.push(
      `Tolerated: ${header.tolerated} unobserved low-risk variant(s) (tier: tolerated, action log), at most ${Math.round(header.tolerance * 100)}% of the allowed set.`,
    );
  }
  if (header.architectures.length > 1) {
    lines.push('Rules apply to every listed ABI: a call seen on one ABI is allowed on all of them.');
  }
  if (header.unnameable.length > 0) {
    lines.push(`Not nameable (unknownAction decides them): ${header.unnameable.join(', ')}.`);
  }
  lines.push(
    'Review every rule, then roll out: `sysfence run --mode log`, `sysfence learn --from-audit`, enforce.',
  );
  return commentLines(lines, '');
}

/** Executables shown in the header; the rest are counted. */
const MAX_LISTED = 10;

function listText(items: readonly string[]): string {
  const more = items.length > MAX_LISTED ? ` and ${items.length - MAX_LISTED} more` : '';
  return `${items.slice(0, MAX_LISTED).join(', ')}${more}`;
}

function checkDefaultAction(action: Action): Action {
  if (!stopsSyscall(action)) {
    throw new Error(
      `a learned policy's default action must deny (errno or kill_process), not ${actionText(action)}`,
    );
  }
  return action;
}

/** Writes a least-privilege policy for what the trace saw; throws when the options leave nothing to learn. */
export function generatePolicy(trace: Trace, options: GenerateOptions): GeneratedPolicy {
  const defaultAction = checkDefaultAction(options.defaultAction ?? DEFAULT_LEARNED_ACTION);
  const entries = selectEntries(trace, options);
  const nameable = entries.filter(isNameable);
  if (nameable.length === 0) throw new Error('the trace has no syscall a policy can name');
  const unnameable = [...new Set(entries.filter((e) => !isNameable(e)).map(unnameableText))].sort();
  const architectures = options.arch ?? abisOf(nameable);
  const observed = syscallUsages(observedCalls(nameable));
  const substitution = clone3Substitution(observed, architectures);
  const usages = observed.filter((usage) => usage !== substitution.replaced);
  const calls = usages.flatMap((usage) => usage.calls);
  const exes = [...new Set(nameable.map((e) => e.exe).filter((e) => e !== ''))].sort();
  const who = workloadText(exes, options);
  const tolerance = options.tolerance ?? 0;
  const substituted = new Set(
    substitution.rules.flatMap((rule) => rule.syscalls.map((syscall) => syscall.name)),
  );
  const tolerated = toleratedVariants(calls, toleranceBudget(usages.length, tolerance)).filter(
    (variant) => !substituted.has(variant.syscall),
  );
  const rules: DraftRule[] = [
    ...groupRules(
      usages.filter((usage) => !usage.narrowable),
      trace,
      who,
    ),
    ...usages
      .filter((usage) => usage.narrowable)
      .flatMap((usage) => argumentRules(usage, describers(trace, who))),
    ...substitution.rules,
    ...tolerated.map(toleratedRule),
    ...fallbackRules(
      new Set(observed.map((usage) => usage.name)),
      new Set(tolerated.map((variant) => variant.syscall)),
      architectures,
    ),
  ];
  const text = [
    ...headerLines({
      trace,
      entries,
      who,
      exes,
      architectures,
      allowed: usages.length,
      tolerated: tolerated.length,
      tolerance,
      unnameable,
    }),
    `name: ${yamlString(options.name)}`,
    `architectures: [${architectures.join(', ')}]`,
    `defaultAction: ${actionText(defaultAction)}`,
    'unknownAction: errno(ENOSYS) # numbers newer than the table: libc falls back on ENOSYS',
    'badArchAction: kill_process # other ABIs are attack surface, not workload',
    'metadata:',
    `  description: ${yamlString(`learned from ${trace.runs} run(s) of ${who}`)}`,
    'rules:',
    ...rules.flatMap((rule) => renderRule(rule, '  ')),
  ].join('\n');
  return {
    text: `${text}\n`,
    architectures,
    allowed: usages.map((usage) => usage.name),
    observed: calls,
    tolerated,
    unnameable,
  };
}
