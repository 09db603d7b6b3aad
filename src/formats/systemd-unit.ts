/**
 * Reading systemd unit files and drop-ins just far enough for the SystemCall* settings: sections,
 * `Key=Value` assignments with their line numbers, comments (# and ;) and backslash continuations
 * (systemd.syntax(7)). Everything else in a unit is kept out of the way, not interpreted.
 */
import type { SourceLocation } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';

/** One `Key=Value` line (continuations joined), where it was written and its section. */
export interface UnitAssignment {
  readonly section: string;
  readonly key: string;
  readonly value: string;
  readonly location: SourceLocation;
}

/** The assignments of a unit file or drop-in, in file order; throws on a line that is none of the known forms. */
export function parseUnitFile(text: string, file: string): UnitAssignment[] {
  const lines = text.split(/\r?\n/);
  const assignments: UnitAssignment[] = [];
  let section = '';
  for (let index = 0; index < lines.length; index++) {
    const start = index;
    let line = lines[index] ?? '';
    // A trailing backslash continues the value on the next line (joined with a space, as systemd does).
    while (line.endsWith('\\') && index + 1 < lines.length) {
      index++;
      line = `${line.slice(0, -1)} ${lines[index] ?? ''}`;
    }
    const trimmed = line.trim();
    const location: SourceLocation = { file, line: start + 1, column: 1 };
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header !== null) {
      section = header[1] ?? '';
      continue;
    }
    const equals = trimmed.indexOf('=');
    if (equals <= 0) {
      throw policyFailure(`not a section header or Key=Value assignment: '${trimmed}'`, location);
    }
    assignments.push({
      section,
      key: trimmed.slice(0, equals).trim(),
      value: trimmed.slice(equals + 1).trim(),
      location,
    });
  }
  return assignments;
}

/** Whitespace-separated words, with surrounding quotes removed (systemd's extract_first_word with UNQUOTE). */
export function unitWords(value: string): string[] {
  const words: string[] = [];
  for (const match of value.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return words.filter((word) => word !== '');
}
