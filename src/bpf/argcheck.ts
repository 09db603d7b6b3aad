/**
 * Argument checks of one syscall as DAG nodes: its conditional rules in precedence order, each an AND
 * of conditions, 64-bit ones compared high word first. The accumulator's content is tracked along
 * every path so a word already in A is not loaded again.
 */
import type { ArgOp } from '../policy/ir.js';
import type { CheckedCondition } from './conditions.js';
import { splitWords } from './conditions.js';
import type { DagNode, JumpOp, NodePool } from './dag.js';
import type { Target } from './decision.js';
import { argWordOffset, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET } from './insn.js';

/** Byte offset of the seccomp_data word in A, or UNKNOWN_WORD after arithmetic. */
type AccState = number;
const UNKNOWN_WORD = -1;
const ALL_ONES = 0xffffffff;

/** Builds the rest of a path given what A holds there. */
type Continuation = (state: AccState) => DagNode;

interface Emitter {
  readonly pool: NodePool;
  readonly bigEndian: boolean;
}

/** One 32-bit word of a condition: where it is loaded from and what it is compared with. */
interface WordCheck {
  readonly offset: number;
  readonly value: number;
  readonly mask: number;
}

/** The argument-check program of an `args` target, entered with A holding the word at entryState. */
export function buildArgCheck(
  target: Extract<Target, { kind: 'args' }>,
  emitter: Emitter,
  entryState: AccState,
): DagNode {
  const memo = new Map<string, DagNode>();
  const memoized = (key: string, make: () => DagNode): DagNode => {
    const found = memo.get(key);
    if (found) return found;
    const node = make();
    memo.set(key, node);
    return node;
  };
  const clauseFrom = (clause: number, state: AccState): DagNode =>
    memoized(`c${clause}:${state}`, () =>
      clause === target.clauses.length
        ? emitter.pool.ret(target.fallbackRet)
        : conditionFrom(clause, 0, state),
    );
  const conditionFrom = (clause: number, index: number, state: AccState): DagNode =>
    memoized(`c${clause}.${index}:${state}`, () => {
      const { conditions, ret } = target.clauses[clause]!;
      const condition = conditions[index];
      if (!condition) return emitter.pool.ret(ret);
      return emitCondition(
        emitter,
        condition,
        state,
        (next) => conditionFrom(clause, index + 1, next),
        (next) => clauseFrom(clause + 1, next),
      );
    });
  return clauseFrom(0, entryState);
}

/** Negated operators are their positive twin with the outcomes swapped. */
const NEGATION: Partial<Record<ArgOp, ArgOp>> = { ne: 'eq', lt: 'ge', le: 'gt' };

function emitCondition(
  emitter: Emitter,
  condition: CheckedCondition,
  state: AccState,
  pass: Continuation,
  fail: Continuation,
): DagNode {
  const positive = NEGATION[condition.op];
  if (positive) return emitCondition(emitter, { ...condition, op: positive }, state, fail, pass);
  const words = wordChecks(condition, emitter.bigEndian);
  switch (condition.op) {
    case 'gt':
    case 'ge':
      return emitOrdered(emitter, words, condition.op === 'gt' ? BPF_JGT : BPF_JGE, state, pass, fail);
    default:
      return emitAllWordsMatch(emitter, matchOrder(words, state), 0, state, pass, fail);
  }
}

/** The words to compare, most significant first (64-bit: high, low; 32-bit: low only). */
function wordChecks(condition: CheckedCondition, bigEndian: boolean): WordCheck[] {
  const value = splitWords(condition.value);
  const mask = splitWords(condition.mask);
  const low: WordCheck = {
    offset: argWordOffset(condition.index, 'low', bigEndian),
    value: value.low,
    mask: mask.low,
  };
  if (condition.width === 32) return [low];
  const high: WordCheck = {
    offset: argWordOffset(condition.index, 'high', bigEndian),
    value: value.high,
    mask: mask.high,
  };
  return [high, low];
}

/**
 * For eq / masked_eq the words are independent, so test first the one A already holds, else the low
 * word: it usually tells values apart (high words are mostly 0), and consecutive rules on the same
 * argument then reuse the loaded low word instead of reloading the high one.
 */
function matchOrder(words: readonly WordCheck[], state: AccState): readonly WordCheck[] {
  const loaded = words.find((word) => word.offset === state);
  const first = loaded ?? words[words.length - 1]!;
  return [first, ...words.filter((word) => word !== first)];
}

/** Loads the word unless A already holds it. */
function withWord(emitter: Emitter, offset: number, state: AccState, body: Continuation): DagNode {
  return state === offset ? body(offset) : emitter.pool.load(offset, body(offset));
}

/** eq / masked_eq: every word must match (word & mask) == value. */
function emitAllWordsMatch(
  emitter: Emitter,
  words: readonly WordCheck[],
  index: number,
  state: AccState,
  pass: Continuation,
  fail: Continuation,
): DagNode {
  const word = words[index];
  if (!word) return pass(state);
  const next: Continuation = (after) => emitAllWordsMatch(emitter, words, index + 1, after, pass, fail);
  // Folding guarantees value ⊆ mask, so an empty mask word matches whatever the argument holds.
  if (word.mask === 0) return next(state);
  return withWord(emitter, word.offset, state, (loaded) => emitMaskedWord(emitter, word, loaded, next, fail));
}

/** (A & mask) == value with A loaded: one jump when a jeq or jset can say it, else AND then jeq. */
function emitMaskedWord(
  emitter: Emitter,
  word: WordCheck,
  state: AccState,
  pass: Continuation,
  fail: Continuation,
): DagNode {
  const { pool } = emitter;
  if (word.mask === ALL_ONES) return pool.jump(BPF_JEQ, word.value, pass(state), fail(state));
  if (word.value === 0) return pool.jump(BPF_JSET, word.mask, fail(state), pass(state));
  if (word.value === word.mask && isSingleBit(word.mask)) {
    return pool.jump(BPF_JSET, word.mask, pass(state), fail(state));
  }
  return pool.and(word.mask, pool.jump(BPF_JEQ, word.value, pass(UNKNOWN_WORD), fail(UNKNOWN_WORD)));
}

function isSingleBit(value: number): boolean {
  return value !== 0 && (value & (value - 1)) === 0;
}

/** gt / ge: the high word decides unless equal, then the low word does (unsigned, as the kernel compares). */
function emitOrdered(
  emitter: Emitter,
  words: readonly WordCheck[],
  lowOp: JumpOp,
  state: AccState,
  pass: Continuation,
  fail: Continuation,
): DagNode {
  const { pool } = emitter;
  const low = words[words.length - 1]!;
  const compareLow: Continuation = (current) =>
    withWord(emitter, low.offset, current, (loaded) =>
      pool.jump(lowOp, low.value, pass(loaded), fail(loaded)),
    );
  if (words.length === 1) return compareLow(state);
  const high = words[0]!;
  return withWord(emitter, high.offset, state, (loaded) =>
    pool.jump(
      BPF_JGT,
      high.value,
      pass(loaded),
      // Here high <= value, so `jge value` means equal; with value 0 the pool folds it away.
      pool.jump(BPF_JGE, high.value, compareLow(loaded), fail(loaded)),
    ),
  );
}
