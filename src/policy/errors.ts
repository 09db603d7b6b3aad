/**
 * Errors about a policy: where (file:line:column), what is wrong, and a hint to fix it.
 * Every failure to read, resolve or compile a policy is one of these; none degrades into a weaker filter.
 */
import type { SourceLocation } from './ir.js';

export interface PolicyProblem {
  readonly message: string;
  readonly location?: SourceLocation;
  readonly hint?: string;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly problems: readonly PolicyProblem[];

  constructor(problems: PolicyProblem | readonly PolicyProblem[]) {
    const list = Array.isArray(problems)
      ? (problems as readonly PolicyProblem[])
      : [problems as PolicyProblem];
    super(list.map(formatProblem).join('\n'));
    this.problems = list;
  }

  /** `file:line:col: error: message` lines, each followed by its hint. */
  format(): string {
    return this.problems.map(formatProblem).join('\n');
  }
}

function formatProblem(problem: PolicyProblem): string {
  const where = problem.location
    ? `${problem.location.file}:${problem.location.line}:${problem.location.column}: `
    : '';
  const hint = problem.hint ? `\n  hint: ${problem.hint}` : '';
  return `${where}error: ${problem.message}${hint}`;
}
