/**
 * Argument values as written in policies and on the command line: integers (decimal, 0x, 0o, 0b),
 * negative integers (two's complement within the condition's width, the way the kernel sees a negative
 * int argument), symbolic constants (AF_INET, O_RDONLY, ...) and `A|B` combinations of those.
 * The result is always an unsigned value that fits the width; anything else is an error, never a
 * silently truncated value (a truncated value would compare against something the author did not write).
 */
import { constantNames, lookupConstant } from '../syscalls/constants.js';
import type { SourceLocation } from './ir.js';
import { policyFailure } from './problems.js';
import { didYouMean } from './suggest.js';

export type ValueWidth = 32 | 64;

const INTEGER_LITERAL = /^[-+]?(?:0x[0-9a-f]+|0o[0-7]+|0b[01]+|0|[1-9][0-9]*)$/i;
/** C writes octal as 0755; accepting it as decimal 755 would silently change the value. */
const LEADING_ZERO_DECIMAL = /^[-+]?0[0-9]+$/;
const CONSTANT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses an integer literal (optional sign; 0x/0o/0b prefixes), or undefined if it is not one. */
export function parseIntegerLiteral(text: string): bigint | undefined {
  if (!INTEGER_LITERAL.test(text)) return undefined;
  const signed = text.startsWith('-') || text.startsWith('+');
  const magnitude = BigInt(signed ? text.slice(1) : text);
  return text.startsWith('-') ? -magnitude : magnitude;
}

/**
 * Parses a condition value and returns it as an unsigned integer below 2^width.
 * Throws a located PolicyError when the text is malformed, names an unknown constant or does not fit.
 */
export function parseValue(
  input: string | bigint | number,
  width: ValueWidth,
  location?: SourceLocation,
): bigint {
  if (typeof input === 'bigint') return fitWidth(input, describeInteger(input), width, location);
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) {
      throw policyFailure(`value ${input} is not an integer that can be represented exactly`, location);
    }
    return fitWidth(BigInt(input), describeInteger(BigInt(input)), width, location);
  }
  const terms = input.split('|').map((term) => term.trim());
  let combined = 0n;
  for (const term of terms)
    combined |= fitWidth(parseTerm(term, input, location), `'${term}'`, width, location);
  return combined;
}

/** One operand of an `A|B` value: an integer literal or a symbolic constant (possibly negative, e.g. AT_FDCWD). */
function parseTerm(term: string, whole: string, location?: SourceLocation): bigint {
  if (term === '') throw policyFailure(`value '${whole}' has an empty operand`, location);
  if (LEADING_ZERO_DECIMAL.test(term)) {
    throw policyFailure(
      `value '${term}' has a leading zero`,
      location,
      `write 0o${term.replace(/^[-+]?0+/, '')} for octal or drop the leading zero for decimal`,
    );
  }
  const literal = parseIntegerLiteral(term);
  if (literal !== undefined) return literal;
  if (!CONSTANT_NAME.test(term)) {
    throw policyFailure(
      `value '${term}' is neither an integer nor a constant name`,
      location,
      'write a number (42, 0x2a, 0o52, 0b101010, -1), a constant (AF_INET) or a combination (O_RDONLY|O_CLOEXEC)',
    );
  }
  const constant = lookupConstant(term);
  if (constant === undefined) {
    throw policyFailure(`unknown constant '${term}'`, location, didYouMean(term, constantNames()));
  }
  return constant;
}

/**
 * Maps a signed integer into [0, 2^width): non-negative values must be below 2^width, negative ones at
 * least -2^(width-1) (they become their two's complement, e.g. -1 at width 32 is 0xffffffff).
 */
function fitWidth(value: bigint, text: string, width: ValueWidth, location?: SourceLocation): bigint {
  const limit = 1n << BigInt(width);
  const fits = value >= 0n ? value < limit : value >= -(limit >> 1n);
  if (!fits) {
    const hint =
      width === 32 && value >= -(1n << 63n) && value < 1n << 64n
        ? 'use width: 64 for a 64-bit argument'
        : undefined;
    throw policyFailure(`value ${text} does not fit in ${width} bits`, location, hint);
  }
  return BigInt.asUintN(width, value);
}

/** A number as a message shows it: decimal, plus hex when that differs ("4294967296 (0x100000000)"). */
function describeInteger(value: bigint): string {
  const magnitude = value < 0n ? -value : value;
  if (magnitude < 10n) return String(value);
  return `${value} (${value < 0n ? '-' : ''}0x${magnitude.toString(16)})`;
}

/** Canonical hex text of an unsigned value, as explain and error messages print it. */
export function formatValue(value: bigint): string {
  return `0x${value.toString(16)}`;
}
