/**
 * Argument conditions as the compiler sees them: validated, folded when the outcome is fixed whatever the
 * argument (ge 0, lt 0, masked_eq with mask 0 ...), and split into the 32-bit words a BPF program loads.
 */
import type { ArgCondition, ArgOp, SourceLocation } from '../policy/ir.js';
import { CompileError } from './compile-error.js';

const WORD_MASK = 0xffffffffn;
const ARG_OPS: readonly ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];

/** A condition that survived folding: value and mask are full-width (mask is all ones unless masked_eq). */
export interface CheckedCondition {
  readonly index: number;
  readonly op: ArgOp;
  readonly width: 32 | 64;
  readonly value: bigint;
  readonly mask: bigint;
}

/** What folding made of a condition: fixed outcome, or a check the program must make. */
export type FoldedCondition = boolean | CheckedCondition;

/** Rejects a condition the compiler cannot encode faithfully; the message names the rule's place. */
export function validateCondition(condition: ArgCondition, location: SourceLocation): void {
  const fail = (what: string): never => {
    throw new CompileError(`invalid argument condition: ${what}`, location);
  };
  if (!Number.isInteger(condition.index) || condition.index < 0 || condition.index > 5) {
    fail(`argument index ${String(condition.index)} is not 0..5`);
  }
  if (condition.width !== 32 && condition.width !== 64)
    fail(`width ${String(condition.width)} is not 32 or 64`);
  if (!ARG_OPS.includes(condition.op)) fail(`unknown operator ${String(condition.op)}`);
  const limit = 1n << BigInt(condition.width);
  if (typeof condition.value !== 'bigint' || condition.value < 0n || condition.value >= limit) {
    fail(`value ${String(condition.value)} of arg${condition.index} is outside 0..2^${condition.width}-1`);
  }
  if (condition.op === 'masked_eq') {
    // No mask means all ones (a plain eq), as the reference evaluator reads it.
    if (
      condition.mask !== undefined &&
      (typeof condition.mask !== 'bigint' || condition.mask < 0n || condition.mask >= limit)
    ) {
      fail(`mask ${condition.mask} of arg${condition.index} is outside 0..2^${condition.width}-1`);
    }
  } else if (condition.mask !== undefined) {
    fail(`a mask is only meaningful for masked_eq, not ${condition.op}`);
  }
}

/** Folds a validated condition to true/false when no argument value can change its outcome. */
export function foldCondition(condition: ArgCondition): FoldedCondition {
  const max = (1n << BigInt(condition.width)) - 1n;
  const value = condition.value;
  switch (condition.op) {
    case 'lt':
      if (value === 0n) return false;
      break;
    case 'le':
      if (value === max) return true;
      break;
    case 'gt':
      if (value === max) return false;
      break;
    case 'ge':
      if (value === 0n) return true;
      break;
    case 'masked_eq': {
      const mask = condition.mask ?? max;
      // Bits of the value outside the mask can never be matched by (arg & mask).
      if ((value & ~mask) !== 0n) return false;
      if (mask === 0n) return true;
      return { index: condition.index, op: 'masked_eq', width: condition.width, value, mask };
    }
    default:
      break;
  }
  return { index: condition.index, op: condition.op, width: condition.width, value, mask: max };
}

/** A stable text key of a checked condition, for deduplication and hash-consing. */
export function conditionKey(condition: CheckedCondition): string {
  return `${condition.index}.${condition.op}${condition.width}:${condition.value.toString(16)}/${condition.mask.toString(16)}`;
}

/** The high and low 32-bit words of a 64-bit value, as unsigned numbers. */
export function splitWords(value: bigint): { readonly high: number; readonly low: number } {
  return { high: Number((value >> 32n) & WORD_MASK), low: Number(value & WORD_MASK) };
}
