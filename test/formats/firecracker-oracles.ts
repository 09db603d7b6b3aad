/**
 * Shared helpers for the SPO / systemd / Firecracker format tests: decision comparison of compiled
 * filters (sysfence's compiler against libseccomp's, both run in the emulator) and empty-diff round trips.
 */
import assert from 'node:assert/strict';
import { libseccompCompile, libseccompUnavailable, type PeerRule } from '../../bench/peers/libseccomp.js';
import { compile } from '../../src/bpf/compiler.js';
import { diffPolicies, formatDiffEntry } from '../../src/bpf/diff.js';
import { emulate } from '../../src/bpf/emulator.js';
import type { Program } from '../../src/bpf/insn.js';
import type { Action } from '../../src/policy/action.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { AUDIT_ARCH, syscallEntries, type Arch } from '../../src/syscalls/arch.js';
import { argSamples } from './oci-helpers.js';

/** libseccomp's program (optimize 1, default bad-arch action kill_thread) for hand-built rules. */
export function libseccompFilter(
  defaultAction: Action,
  arches: readonly Arch[],
  rules: readonly PeerRule[],
): Program {
  const missing = libseccompUnavailable();
  if (missing !== undefined) assert.fail(missing);
  return libseccompCompile({ defaultAction, arches, optimize: 1, rules }).program;
}

/** Argument vectors: 0s, every sample in every position, and each rule's conditions satisfied together. */
function argumentVectors(policy: ResolvedPolicy, syscall: string): bigint[][] {
  const vectors: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
  const rules = policy.rules.filter((rule) => rule.syscalls.includes(syscall));
  if (!rules.some((rule) => rule.conditions.length > 0)) return vectors;
  for (const value of argSamples(policy)) {
    for (let index = 0; index < 6; index++) {
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[index] = value;
      vectors.push(args);
    }
  }
  for (const rule of rules) {
    for (const high of [0n, 0x100000000n]) {
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      for (const condition of rule.conditions) args[condition.index] = condition.value | high;
      vectors.push(args);
    }
  }
  return vectors;
}

/**
 * Asserts that sysfence's compiled filter for `policy` and libseccomp's `program` return the same value
 * for every syscall of `abi`'s table (arguments sampled around the policy's constants) and a few
 * numbers no table names. Returns how many inputs were compared.
 */
export function assertSameAsLibseccomp(policy: ResolvedPolicy, program: Program, abi: Arch): number {
  const ours = compile(policy, { arch: abi }).program;
  let compared = 0;
  const check = (nr: number, args: readonly bigint[]): void => {
    const input = { nr, arch: AUDIT_ARCH[abi], args };
    const expected = emulate(program, input);
    const actual = emulate(ours, input);
    compared++;
    if (expected !== actual) {
      assert.fail(
        `${abi} nr ${nr} args ${args.map((a) => `0x${a.toString(16)}`).join(',')}: libseccomp 0x${expected.toString(16)}, sysfence 0x${actual.toString(16)}`,
      );
    }
  };
  for (const [name, nr] of syscallEntries(abi)) {
    for (const args of argumentVectors(policy, name)) check(nr, args);
  }
  for (const nr of [0x3fff, 0xffff]) check(nr, [0n, 0n, 0n, 0n, 0n, 0n]);
  return compared;
}

/** Asserts the two policies compile to filters that decide every input alike (an empty diff). */
export function assertNoDiff(before: ResolvedPolicy, after: ResolvedPolicy, arch: Arch = 'x86_64'): void {
  const entries = diffPolicies(before, after, { arch });
  assert.deepEqual(entries.map(formatDiffEntry), [], 'the round trip changed decisions');
}
