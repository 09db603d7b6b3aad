/**
 * The rollout proposal as text to review: a YAML snippet of the new rules, and a unified diff that
 * appends them to the rules of the policy's most derived layer file. Additions that need a deliberate
 * decision (risky calls, explicit denials, unlisted ABIs) are written commented out.
 */
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { argumentRules, riskNote, type Describe, type Seen } from './learned-rules.js';
import { commentLines, renderRule, type DraftRule } from './policy-text.js';
import { decisionText, type ProposedAddition, type RolloutProposal } from './rollout.js';

/** Executables and containers named per rule; the rest are counted. */
const MAX_NAMED = 5;

function namedList(items: readonly string[]): string {
  const more = items.length > MAX_NAMED ? ` (+${items.length - MAX_NAMED} more)` : '';
  return `${items.slice(0, MAX_NAMED).join(', ')}${more}`;
}

/** `2026-12-01 10:00:00`: second resolution is enough to find the records in the log. */
function utcTime(time: number): string {
  return new Date(time).toISOString().slice(0, 19).replace('T', ' ');
}

const describeSeen: Describe = (seen: Seen) => {
  const who = seen.exes.length === 0 ? '' : ` by ${namedList(seen.exes)}`;
  return `seen ${seen.count}× on ${seen.abis.join(', ')}${who} from ${utcTime(seen.firstSeen)} to ${utcTime(seen.lastSeen)} UTC`;
};

/** The reason of a proposed rule: the log showed the calls were needed, and who made them. */
const neededText: Describe = (seen: Seen) => {
  const who = seen.exes.length === 0 ? '' : ` by ${namedList(seen.exes)}`;
  return `needed in log-mode rollout: ${seen.count} call(s)${who}`;
};

function additionComments(addition: ProposedAddition): string[] {
  const { usage } = addition;
  return [
    ...(usage.containers.length === 0 ? [] : [`containers: ${namedList(usage.containers)}`]),
    `currently: ${addition.current.map(decisionText).join('; ')}`,
    ...(addition.reviewOnly === undefined
      ? []
      : [`REVIEW: commented out because ${addition.reviewOnly}; enable only on purpose`]),
  ];
}

/** The draft rules of one addition: per observed argument value where arguments are learned. */
export function additionRules(addition: ProposedAddition): DraftRule[] {
  const { usage } = addition;
  const disabled = addition.reviewOnly !== undefined;
  if (usage.narrowable) {
    const describe = { note: describeSeen, reason: neededText };
    return argumentRules(usage, describe, additionComments(addition)).map((rule) => ({ ...rule, disabled }));
  }
  const risk = riskNote(usage.name);
  const unnarrowed = usage.argumentsMissing ? ['arguments not recorded by the source, so not narrowed'] : [];
  return [
    {
      comments: [
        `${usage.name}: ${describeSeen(usage)}`,
        ...(risk ? [risk] : []),
        ...unnarrowed,
        ...additionComments(addition),
      ],
      syscalls: [{ name: usage.name }],
      action: 'allow',
      conditions: [],
      reason: neededText(usage),
      disabled,
    },
  ];
}

function summaryLines(proposal: RolloutProposal): string[] {
  const lines = [
    `sysfence learn --from-audit: ${proposal.notAllowed} of ${proposal.considered} audited call(s) are not allowed by policy ${proposal.policy.name};`,
    `${proposal.additions.length} syscall(s) proposed, ${proposal.additions.filter((a) => a.reviewOnly !== undefined).length} of them commented out for review.`,
  ];
  if (proposal.unlistedAbis.length > 0) {
    lines.push(
      `ABIs not in architectures (badArchAction decides them until listed): ${proposal.unlistedAbis.join(', ')}.`,
    );
  }
  if (proposal.unnameable.length > 0) {
    lines.push(`Not nameable (unknownAction decides them): ${proposal.unnameable.join(', ')}.`);
  }
  return lines;
}

/** The proposed rules as lines of a `rules:` list at `indent`, preceded by the summary comment. */
function proposalLines(proposal: RolloutProposal, indent: string): string[] {
  return [
    ...commentLines(summaryLines(proposal), indent),
    ...proposal.additions.flatMap(additionRules).flatMap((rule) => renderRule(rule, indent)),
  ];
}

/** A YAML snippet (`rules:` and the proposed rules) to paste into a policy layer. */
export function proposalSnippet(proposal: RolloutProposal): string {
  return `rules:\n${proposalLines(proposal, '  ').join('\n')}\n`;
}

/** Where the new rules go in a layer file: the line index to insert before, and the list's indent. */
interface Insertion {
  readonly at: number;
  readonly indent: string;
  /** A `rules:` line to write first, when the layer has no rules yet. */
  readonly header?: string;
}

function lineOf(text: string, offset: number): number {
  let line = 0;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

function rulesNode(text: string, file: string): Node | null | undefined {
  const document = parseDocument(text);
  if (document.errors.length > 0)
    throw new Error(`${file}: cannot read the YAML: ${document.errors[0]?.message}`);
  if (!isMap(document.contents)) throw new Error(`${file}: the policy is not a YAML mapping`);
  const pair = document.contents.items.find((item) => isScalar(item.key) && item.key.value === 'rules');
  return pair === undefined ? undefined : (pair.value as Node | null);
}

/** Finds where to append to the layer's rules; throws when the layer writes them in a way we cannot extend. */
function insertionPoint(text: string, file: string): Insertion {
  const rules = rulesNode(text, file);
  const lineCount = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  if (rules === undefined) return { at: lineCount, indent: '  ', header: 'rules:' };
  const range = isSeq(rules) && !rules.flow && rules.items.length > 0 ? rules.range : undefined;
  if (!isSeq(rules) || range === undefined || range === null) {
    throw new Error(`${file}: rules is not a block list (- syscalls: ...); add the proposed rules by hand`);
  }
  const last = rules.items.at(-1) as Node;
  const end = last.range?.[2] ?? range[2];
  return { at: lineOf(text, Math.max(end - 1, 0)) + 1, indent: ' '.repeat(columnOf(text, range[0])) };
}

/** Lines of context a hunk shows around the insertion. */
const CONTEXT = 3;

function unifiedDiff(file: string, before: readonly string[], at: number, added: readonly string[]): string {
  const from = Math.max(0, at - CONTEXT);
  const to = Math.min(before.length, at + CONTEXT);
  const contextBefore = before.slice(from, at).map((line) => ` ${line}`);
  const contextAfter = before.slice(at, to).map((line) => ` ${line}`);
  const oldCount = to - from;
  const start = oldCount === 0 ? from : from + 1;
  return [
    `--- ${file}`,
    `+++ ${file} (proposed)`,
    `@@ -${start},${oldCount} +${from + 1},${oldCount + added.length} @@`,
    ...contextBefore,
    ...added.map((line) => `+${line}`),
    ...contextAfter,
  ].join('\n');
}

export interface ProposalPatch {
  /** The layer file that the rules are appended to (the most derived layer). */
  readonly file: string;
  /** The layer file's text with the rules appended. */
  readonly patched: string;
  /** A unified diff from the file's text to `patched`. */
  readonly diff: string;
}

/** Appends the proposed rules to the rules of `text`, the most derived layer's file, as text and diff. */
export function proposalPatch(proposal: RolloutProposal, text: string, file: string): ProposalPatch {
  const insertion = insertionPoint(text, file);
  const added = [
    ...(insertion.header === undefined ? [] : [insertion.header]),
    ...proposalLines(proposal, insertion.indent),
  ];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const patchedLines = [...lines.slice(0, insertion.at), ...added, ...lines.slice(insertion.at)];
  return {
    file,
    patched: `${patchedLines.join('\n')}\n`,
    diff: `${unifiedDiff(file, lines, insertion.at, added)}\n`,
  };
}
