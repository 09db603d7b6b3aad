/**
 * Collecting policy problems: parsing keeps going after the first mistake so one run reports them all,
 * then throws a single PolicyError (errors.ts) carrying every problem with its location.
 */
import { PolicyError, type PolicyProblem } from './errors.js';
import type { SourceLocation } from './ir.js';

/** A PolicyError with one located problem; the leaf parsers (values, actions) throw these. */
export function policyFailure(message: string, location?: SourceLocation, hint?: string): PolicyError {
  return new PolicyError({ message, ...(location ? { location } : {}), ...(hint ? { hint } : {}) });
}

/** An ordered list of problems found so far. */
export class ProblemList {
  readonly items: PolicyProblem[] = [];

  add(message: string, location?: SourceLocation, hint?: string): void {
    this.items.push({ message, ...(location ? { location } : {}), ...(hint ? { hint } : {}) });
  }

  addAll(problems: readonly PolicyProblem[]): void {
    this.items.push(...problems);
  }

  /** Runs a leaf parser; a PolicyError it throws is recorded and undefined returned. Other errors propagate. */
  attempt<T>(parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      this.addAll(error.problems);
      return undefined;
    }
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  /** Throws everything collected as one PolicyError; returns normally when there is nothing to report. */
  throwIfAny(): void {
    if (!this.empty) throw new PolicyError(this.items);
  }
}
