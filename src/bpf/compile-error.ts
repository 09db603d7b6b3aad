/**
 * The one error the seccomp compiler throws: a policy it cannot turn into a filter (no ABI of the target
 * kernel listed, an invalid condition or action, a program over BPF_MAXINSNS). Never a weaker filter instead.
 */
import type { SourceLocation } from '../policy/ir.js';

export class CompileError extends Error {
  override readonly name = 'CompileError';
  /** Where the offending rule was written, when one rule is to blame. */
  readonly location: SourceLocation | undefined;

  constructor(message: string, location?: SourceLocation) {
    super(location ? `${location.file}:${location.line}:${location.column}: ${message}` : message);
    this.location = location;
  }
}
