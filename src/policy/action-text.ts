/**
 * Parsing the text form of an action, as written in policies and accepted by the CLI and importers:
 * allow | log | kill_process | kill_thread | trap | trap(N) | notify | errno(NAME) | errno(N) | trace(N).
 * There are deliberately no aliases: one spelling per action keeps policies greppable and reviewable.
 */
import { errnoNames, errnoNumber } from '../syscalls/errno.js';
import { MAX_ERRNO, type Action } from './action.js';
import type { SourceLocation } from './ir.js';
import { policyFailure } from './problems.js';
import { didYouMean } from './suggest.js';

/** The spellings a policy may use, for hints. */
export const ACTION_SPELLINGS: readonly string[] = [
  'allow',
  'log',
  'kill_process',
  'kill_thread',
  'trap',
  'trap(N)',
  'notify',
  'errno(NAME)',
  'errno(N)',
  'trace(N)',
];

/** trap and trace carry 16 bits of data in the filter's return value (SECCOMP_RET_DATA). */
const MAX_ACTION_DATA = 0xffff;

// A Map, not an object literal: `action: constructor` must not find Object.prototype.constructor.
const PLAIN_ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>([
  ['allow', { kind: 'allow' }],
  ['log', { kind: 'log' }],
  ['kill_process', { kind: 'kill_process' }],
  ['kill_thread', { kind: 'kill_thread' }],
  ['trap', { kind: 'trap', data: 0 }],
  ['notify', { kind: 'notify' }],
]);

const WITH_ARGUMENT = /^(errno|trap|trace)\(([A-Za-z0-9_]+)\)$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Parses an action's text; throws a located PolicyError listing the valid spellings when it is not one. */
export function parseActionText(text: string, location?: SourceLocation): Action {
  const plain = PLAIN_ACTIONS.get(text);
  if (plain !== undefined) return plain;
  const match = WITH_ARGUMENT.exec(text);
  if (match === null) {
    throw policyFailure(
      `unknown action '${text}'`,
      location,
      `valid actions: ${ACTION_SPELLINGS.join(', ')}`,
    );
  }
  const [, kind, argument] = match as unknown as [string, 'errno' | 'trap' | 'trace', string];
  if (kind === 'errno') return { kind, errno: parseErrno(argument, location) };
  return { kind, data: parseDataArgument(kind, argument, location) };
}

/** errno(NAME) or errno(N) with 0 <= N <= MAX_ERRNO (the kernel clamps larger values, changing the meaning). */
function parseErrno(argument: string, location?: SourceLocation): number {
  if (DECIMAL.test(argument)) {
    const errno = Number(argument);
    if (errno > MAX_ERRNO) {
      throw policyFailure(`errno ${argument} is out of range`, location, `errno values are 0..${MAX_ERRNO}`);
    }
    return errno;
  }
  const errno = errnoNumber(argument);
  if (errno === undefined) {
    const hint = didYouMean(argument, errnoNames()) ?? `use a name such as EPERM or a number 0..${MAX_ERRNO}`;
    throw policyFailure(`unknown errno name '${argument}'`, location, hint);
  }
  return errno;
}

function parseDataArgument(kind: 'trap' | 'trace', argument: string, location?: SourceLocation): number {
  const data = DECIMAL.test(argument) ? Number(argument) : Number.NaN;
  if (!(data <= MAX_ACTION_DATA)) {
    throw policyFailure(`${kind}(${argument}) needs a decimal number 0..${MAX_ACTION_DATA}`, location);
  }
  return data;
}
