/** Shared helpers for the OCI format tests: Docker's profile, profile builders, decision comparison. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { actionToRet } from '../../src/policy/action.js';
import { dockerDefaultProfilePath } from '../../bench/docker-profile.js';
import { decide } from '../../src/policy/evaluate.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { ARCHES, syscallEntries, syscallNumber, type Arch } from '../../src/syscalls/arch.js';

export const DOCKER_PROFILE_PATH = dockerDefaultProfilePath();

/** Docker's default profile (a copy of shared/data/profiles/docker-default.json, Apache-2.0: LICENSE.docker beside it). */
export function dockerProfile(): string {
  return readFileSync(DOCKER_PROFILE_PATH, 'utf8');
}

/** A one-entry-per-item OCI profile (pretty-printed so entries sit on known lines). */
export function profile(syscalls: readonly object[], extra: object = {}): string {
  return JSON.stringify(
    { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], ...extra, syscalls },
    null,
    2,
  );
}

/** The decision's return value, so actions compare by what the kernel would get. */
export function ret(policy: ResolvedPolicy, arch: Arch, name: string, args: readonly bigint[] = []): number {
  const nr = syscallNumber(arch, name);
  assert.notEqual(nr, undefined, `${name} has no number on ${arch}`);
  return actionToRet(decide(policy, arch, nr as number, args).action);
}

/** Argument samples around every value a policy compares with, plus the edges of 32 and 64 bits. */
export function argSamples(...policies: readonly ResolvedPolicy[]): bigint[] {
  const values = new Set<bigint>([0n, 1n, 0xffffffffn, 0x100000000n, 0x100000001n, (1n << 64n) - 1n]);
  for (const policy of policies) {
    for (const rule of policy.rules) {
      for (const condition of rule.conditions) {
        for (const base of [
          condition.value,
          condition.mask ?? 0n,
          condition.value | ~(condition.mask ?? 0n),
        ]) {
          for (const delta of [-1n, 0n, 1n]) {
            const v = (base + delta) & ((1n << 64n) - 1n);
            values.add(v);
            values.add(v | 0x100000000n);
          }
        }
      }
    }
  }
  return [...values];
}

/**
 * Asserts both policies decide alike for every ABI, every syscall of its table and argument samples
 * in every argument position, plus numbers no table names.
 */
export function assertSameDecisions(a: ResolvedPolicy, b: ResolvedPolicy): void {
  const samples = argSamples(a, b);
  for (const arch of ARCHES) {
    const numbers = [...syscallEntries(arch).map(([, nr]) => nr), 0x3fff, 0xffff];
    for (const nr of numbers) {
      const vectors: bigint[][] = [[]];
      for (let index = 0; index < 6; index++) {
        for (const value of samples) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[index] = value;
          vectors.push(args);
        }
      }
      for (const args of vectors) {
        const left = actionToRet(decide(a, arch, nr, args).action);
        const right = actionToRet(decide(b, arch, nr, args).action);
        if (left !== right) {
          assert.fail(
            `${arch} nr ${nr} args ${args.join(',')}: ${left.toString(16)} vs ${right.toString(16)}`,
          );
        }
      }
    }
  }
}
