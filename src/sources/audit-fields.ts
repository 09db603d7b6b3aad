/**
 * Low-level readers for the text of one audit record: numbers and untrusted strings read straight from
 * index ranges of the line, so the parser's hot path does not slice a substring for every field.
 */
import { isUtf8 } from 'node:buffer';

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_A = 65;
const CHAR_F = 70;
const CHAR_LOWER_A = 97;
const CHAR_LOWER_F = 102;
const CHAR_MINUS = 45;
const CHAR_QUOTE = 34;

/** Numbers past this many decimal digits could lose precision in a double; audit never writes them. */
const MAX_DECIMAL_DIGITS = 15;

/** The value of a hex digit, or -1. */
function hexDigit(code: number): number {
  if (code >= CHAR_0 && code <= CHAR_9) return code - CHAR_0;
  if (code >= CHAR_LOWER_A && code <= CHAR_LOWER_F) return code - CHAR_LOWER_A + 10;
  if (code >= CHAR_A && code <= CHAR_F) return code - CHAR_A + 10;
  return -1;
}

/** A non-negative decimal integer spanning exactly [start, end), or undefined. */
export function decimalAt(text: string, start: number, end: number): number | undefined {
  if (end <= start || end - start > MAX_DECIMAL_DIGITS) return undefined;
  let value = 0;
  for (let at = start; at < end; at++) {
    const code = text.charCodeAt(at);
    if (code < CHAR_0 || code > CHAR_9) return undefined;
    value = value * 10 + (code - CHAR_0);
  }
  return value;
}

/** A decimal integer with an optional minus sign spanning exactly [start, end), or undefined. */
export function signedDecimalAt(text: string, start: number, end: number): number | undefined {
  if (text.charCodeAt(start) !== CHAR_MINUS) return decimalAt(text, start, end);
  const magnitude = decimalAt(text, start + 1, end);
  return magnitude === undefined ? undefined : -magnitude;
}

/** A hex number of at most 32 bits (no 0x) spanning exactly [start, end), or undefined. */
export function hex32At(text: string, start: number, end: number): number | undefined {
  if (end <= start || end - start > 8) return undefined;
  let value = 0;
  for (let at = start; at < end; at++) {
    const digit = hexDigit(text.charCodeAt(at));
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

/** A hex number of at most 64 bits (no 0x) spanning exactly [start, end), as a bigint, or undefined. */
export function hex64At(text: string, start: number, end: number): bigint | undefined {
  const length = end - start;
  if (length <= 0 || length > 16) return undefined;
  // Two 32-bit halves keep the digit loop in small integers; one BigInt per value.
  const split = Math.max(start, end - 8);
  const low = hex32At(text, split, end);
  if (low === undefined) return undefined;
  if (split === start) return BigInt(low);
  const high = hex32At(text, start, split);
  return high === undefined ? undefined : (BigInt(high) << 32n) | BigInt(low);
}

/** A signed decimal of any size spanning exactly [start, end) as a bigint (audit's exit=), or undefined. */
export function bigDecimalAt(text: string, start: number, end: number): bigint | undefined {
  const digitsStart = text.charCodeAt(start) === CHAR_MINUS ? start + 1 : start;
  if (end <= digitsStart || end - digitsStart > 20) return undefined;
  for (let at = digitsStart; at < end; at++) {
    const code = text.charCodeAt(at);
    if (code < CHAR_0 || code > CHAR_9) return undefined;
  }
  const small = end - start <= MAX_DECIMAL_DIGITS ? signedDecimalAt(text, start, end) : undefined;
  return small !== undefined ? BigInt(small) : BigInt(text.slice(start, end));
}

/**
 * Decodes bytes the way the audit tools show them: valid UTF-8 as text; anything else byte for byte
 * (each byte becomes the code point of the same value), so a hostile name is never merged with another
 * by replacement characters and can be told apart exactly.
 */
export function decodeAuditBytes(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** What an untrusted string field (comm=, exe=, proctitle=) held. */
export type UntrustedString =
  | { readonly kind: 'value'; readonly text: string }
  /** `(null)` or `?`: the kernel had no value (a kernel thread has no exe). */
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid' };

const ABSENT: UntrustedString = { kind: 'absent' };
const INVALID: UntrustedString = { kind: 'invalid' };

/**
 * Reads an untrusted string field as the kernel writes it (audit_log_untrustedstring): in double quotes
 * when it is plain printable ASCII, otherwise as bare hex of its bytes. Hex-decoded text may hold
 * newlines, quotes or any byte; it is returned intact.
 */
export function untrustedStringAt(text: string, start: number, end: number): UntrustedString {
  if (end - start >= 2 && text.charCodeAt(start) === CHAR_QUOTE && text.charCodeAt(end - 1) === CHAR_QUOTE) {
    return { kind: 'value', text: text.slice(start + 1, end - 1) };
  }
  const length = end - start;
  if ((length === 6 && text.startsWith('(null)', start)) || (length === 1 && text.startsWith('?', start))) {
    return ABSENT;
  }
  if (length === 0 || length % 2 !== 0) return INVALID;
  const bytes = Buffer.allocUnsafe(length / 2);
  for (let at = start, index = 0; at < end; at += 2, index++) {
    const high = hexDigit(text.charCodeAt(at));
    const low = hexDigit(text.charCodeAt(at + 1));
    if (high < 0 || low < 0) return INVALID;
    bytes[index] = high * 16 + low;
  }
  return { kind: 'value', text: decodeAuditBytes(bytes) };
}

/**
 * A copy of the text that shares no memory with the string it came from (a substring can keep its
 * whole parent alive); exact for any string, including lone surrogates.
 */
export function detachedCopy(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
