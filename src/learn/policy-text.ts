/**
 * Writing learned rules as policy YAML text an operator reviews: comments with counts and confidence,
 * one syscall per line in grouped rules, and quoting that keeps attacker-chosen text (task names,
 * executable paths) from breaking out of a string or a comment.
 */
import { conditionYaml, type LearnedCondition } from './learned-conditions.js';

/** A syscall of a rule, with the note written after it (`read # seen 12× in 3/3 runs`). */
export interface DraftSyscall {
  readonly name: string;
  readonly note?: string;
}

/** A rule before it is text. */
export interface DraftRule {
  /** Comment lines written above the rule (without `#`). */
  readonly comments: readonly string[];
  readonly syscalls: readonly DraftSyscall[];
  /** The action as policies spell it: allow, log, errno(EPERM), ... */
  readonly action: string;
  readonly conditions: readonly LearnedCondition[];
  readonly reason: string;
  readonly tier?: 'tolerated';
  /** Written commented out: proposed, but only to be enabled after a deliberate review. */
  readonly disabled?: boolean;
}

/**
 * Characters written as they are: printable ASCII and printable non-ASCII text (`×`, accented paths),
 * but not line or paragraph separators, zero-width characters or bidirectional overrides, which could
 * end a comment in some editor or make a reviewer read something other than what the file says.
 */
function isPlainCharacter(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code < 0xa0 || (code >= 0x200b && code <= 0x200f) || (code >= 0x2028 && code <= 0x202e)) return false;
  if ((code >= 0x2066 && code <= 0x2069) || code === 0xfeff || (code >= 0xd800 && code <= 0xdfff))
    return false;
  return code < 0xfff0 || code > 0xffff;
}

function isPlainText(text: string): boolean {
  for (const char of text) if (!isPlainCharacter(char.codePointAt(0) ?? 0)) return false;
  return true;
}

/** Escapes every character that is not plain (see isPlainCharacter) as a YAML double-quoted escape. */
function escapeNonPrintable(text: string, escapeQuotes: boolean): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (escapeQuotes && (char === '"' || char === '\\')) out += `\\${char}`;
    else if (isPlainCharacter(code)) out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return out;
}

/** A YAML string scalar for any text: single-quoted when plain, else double-quoted with escapes. */
export function yamlString(text: string): string {
  if (isPlainText(text)) return `'${text.replaceAll("'", "''")}'`;
  return `"${escapeNonPrintable(text, true)}"`;
}

/** Text safe inside a `#` comment: no line breaks or control characters can end the comment early. */
export function commentText(text: string): string {
  return escapeNonPrintable(text, false);
}

/** `# text` lines at an indent. */
export function commentLines(lines: readonly string[], indent: string): string[] {
  return lines.map((line) => (line === '' ? `${indent}#` : `${indent}# ${commentText(line)}`));
}

function syscallLines(rule: DraftRule, indent: string): string[] {
  const noted = rule.syscalls.some((syscall) => syscall.note !== undefined);
  if (rule.syscalls.length === 1 || !noted) {
    return [`${indent}- syscalls: [${rule.syscalls.map((syscall) => syscall.name).join(', ')}]`];
  }
  const width = Math.max(...rule.syscalls.map((syscall) => syscall.name.length));
  return [
    `${indent}- syscalls:`,
    ...rule.syscalls.map((syscall) => {
      const note = syscall.note === undefined ? '' : ` # ${commentText(syscall.note)}`;
      return `${indent}    - ${syscall.name.padEnd(note === '' ? 0 : width)}${note}`;
    }),
  ];
}

/** The rule as lines of a `rules:` list whose items start at `indent`. */
export function renderRule(rule: DraftRule, indent: string): string[] {
  const single = rule.syscalls.length === 1 ? rule.syscalls[0]?.note : undefined;
  const lines = [
    ...syscallLines(rule, indent),
    `${indent}  action: ${rule.action}`,
    ...(rule.conditions.length === 0 ? [] : [`${indent}  args:`]),
    ...rule.conditions.map((condition) => `${indent}    - ${conditionYaml(condition)}`),
    ...(rule.tier === undefined ? [] : [`${indent}  tier: ${rule.tier}`]),
    `${indent}  reason: ${yamlString(rule.reason)}`,
  ];
  const comments = commentLines(single === undefined ? rule.comments : [...rule.comments, single], indent);
  return [
    ...comments,
    ...(rule.disabled ? lines.map((line) => `${indent}# ${line.slice(indent.length)}`) : lines),
  ];
}
