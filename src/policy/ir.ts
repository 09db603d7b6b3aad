/**
 * The resolved policy (IR): what every consumer reads — compiler, converters, linter, reviewer,
 * enforcer. Produced by resolving a policy file and its `extends` layers; never parsed from text directly.
 */
import type { Arch } from '../syscalls/arch.js';
import type { Action } from './action.js';

/** Where something was written: 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type ArgOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked_eq';

/**
 * One comparison on a syscall argument. `width: 32` compares only the low 32 bits, the way the kernel
 * reads an `int` argument (a check on all 64 bits of an int argument can be bypassed by setting the
 * upper word); `width: 64` compares high and low words.
 */
export interface ArgCondition {
  readonly index: 0 | 1 | 2 | 3 | 4 | 5;
  readonly op: ArgOp;
  /** Unsigned value, < 2^width. For masked_eq: (arg & mask) == value. */
  readonly value: bigint;
  /** masked_eq only. */
  readonly mask?: bigint;
  readonly width: 32 | 64;
}

/** Tolerated rules come from the learning tolerance tier: allowed but logged, and `tiered` mode honours them. */
export type RuleTier = 'required' | 'tolerated';

/** A rule as the operator declared it, after @groups are expanded; the unit `explain` and `check` talk about. */
export interface PolicyRule {
  /** Syscall names after group expansion, deduplicated, in declaration order. */
  readonly syscalls: readonly string[];
  /** The selectors as written (names and @groups), for messages. */
  readonly selectors: readonly string[];
  readonly action: Action;
  /** All must hold (AND). Empty: the rule matches the syscall unconditionally. */
  readonly conditions: readonly ArgCondition[];
  readonly reason: string;
  readonly tier: RuleTier;
  /** ISO date (YYYY-MM-DD) after which this exception must no longer be relied on. */
  readonly expires?: string;
  readonly ticket?: string;
  /** The layer (policy name) and place this rule was written. */
  readonly layer: string;
  readonly location: SourceLocation;
}

export interface FilesystemRules {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly execute: readonly string[];
}

export interface NetworkRules {
  readonly bindTcp: readonly number[];
  readonly connectTcp: readonly number[];
}

export interface PolicyMetadata {
  readonly owner?: string;
  readonly version?: string;
  /** ISO date of the last review. */
  readonly lastReview?: string;
  /** How often to review, e.g. "90d". */
  readonly reviewInterval?: string;
  readonly description?: string;
}

export interface LayerInfo {
  readonly name: string;
  readonly file: string;
}

export interface ResolvedPolicy {
  readonly name: string;
  readonly architectures: readonly Arch[];
  readonly defaultAction: Action;
  /** For syscall numbers the ABI's table does not name (newer than the table, or never assigned). */
  readonly unknownAction: Action;
  /** For an AUDIT_ARCH (or x32 number) the policy does not list. */
  readonly badArchAction: Action;
  /** Rules in precedence order: the most derived layer first, file order within a layer; first match wins. */
  readonly rules: readonly PolicyRule[];
  /** Layers from the most derived (the file named on the command line) to the base. */
  readonly layers: readonly LayerInfo[];
  readonly filesystem?: FilesystemRules;
  readonly network?: NetworkRules;
  readonly metadata?: PolicyMetadata;
}

/** The values a syscall carries into a filter (struct seccomp_data, minus the instruction pointer). */
export interface SyscallArgs {
  readonly args: readonly bigint[];
}
