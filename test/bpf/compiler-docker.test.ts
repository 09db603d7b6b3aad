/**
 * Docker's default profile, the compiler's benchmark: compared with libseccomp's filter for the same
 * rules (python3-seccomp, binary tree, optimize level 2) on instructions executed per x86_64 syscall,
 * program length and decisions; and the real kernel accepts and enforces the program. Compile time is
 * the benchmark's business (bench/compile.ts prints it beside libseccomp's), never a test's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cacheableSyscalls } from '../../src/bpf/cache.js';
import { compile } from '../../src/bpf/compiler.js';
import { dockerDefaultProfilePath } from '../../bench/docker-profile.js';
import { emulateCounted } from '../../src/bpf/emulator.js';
import type { Program } from '../../src/bpf/insn.js';
import { validateProgram } from '../../src/bpf/validate.js';
import { importOci } from '../../src/formats/oci-import.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { AUDIT_ARCH, hostArch, syscallEntries, syscallNumber } from '../../src/syscalls/arch.js';
import { ZERO_ARGS } from './compiler-fixtures.js';
import { libseccompCompile, specFromPolicy } from '../../bench/peers/libseccomp.js';
import { runProgram } from '../oracle/kernel-run.js';

const PROFILE = dockerDefaultProfilePath();

function dockerDefault(): ResolvedPolicy {
  return importOci(readFileSync(PROFILE, 'utf8'), PROFILE, { arch: 'x86_64', kernelVersion: '6.18' }).policy;
}

function executedCounts(program: Program): number[] {
  return syscallEntries('x86_64').map(
    ([, nr]) => emulateCounted(program, { arch: AUDIT_ARCH.x86_64, nr, args: ZERO_ARGS }).executed,
  );
}

const mean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

test('docker-default: fewer instructions per syscall than libseccomp, bounded paths, same decisions', () => {
  const policy = dockerDefault();
  assert.deepEqual([...policy.architectures].sort(), ['i386', 'x32', 'x86_64']);
  const ours = compile(policy, { arch: 'x86_64' });
  validateProgram(ours.program);
  const peer = libseccompCompile(
    specFromPolicy(policy, { arches: ['x86_64', 'x32', 'i386'], optimize: 2, unknownSyscalls: 'skip' }),
  );
  const theirs = peer.program;
  const tooNew = new Set(peer.unknownSyscalls);

  const ourCounts = executedCounts(ours.program);
  const theirCounts = executedCounts(theirs);
  const report =
    `ours: mean ${mean(ourCounts).toFixed(2)} max ${Math.max(...ourCounts)} length ${ours.program.length}; ` +
    `libseccomp: mean ${mean(theirCounts).toFixed(2)} max ${Math.max(...theirCounts)} length ${theirs.length}`;
  console.log(`docker-default x86_64 ${report}`);
  assert.ok(mean(ourCounts) <= 0.8 * mean(theirCounts), report);
  assert.ok(Math.max(...ourCounts) <= 20, report);
  assert.ok(ours.program.length < theirs.length, report);

  // Same decision as the real libseccomp for every x86_64 syscall it knows, with zero arguments.
  for (const [name, nr] of syscallEntries('x86_64')) {
    if (tooNew.has(name)) continue;
    const input = { arch: AUDIT_ARCH.x86_64, nr, args: ZERO_ARGS };
    assert.equal(emulateCounted(ours.program, input).ret, emulateCounted(theirs, input).ret, name);
  }
});

test('docker-default: every allowed arg-free syscall is cacheable', () => {
  const policy = dockerDefault();
  const result = compile(policy, { arch: 'x86_64' });
  const native = result.stats.cacheable.find((entry) => entry.abi === 'x86_64')!.syscalls;
  // uprobe/uretprobe never reach a filter on x86_64 (the kernel lets them through), so they have no slot.
  const exempt = new Set(cacheableSyscalls(result.program, 'x86_64').kernelExempt);
  const argFree = syscallEntries('x86_64').filter(
    ([name]) =>
      !exempt.has(name) &&
      policy.rules.some(
        (rule) =>
          rule.syscalls.includes(name) && rule.action.kind === 'allow' && rule.conditions.length === 0,
      ),
  );
  assert.deepEqual(
    native,
    argFree.map(([name]) => name),
  );
});

test('the kernel accepts the compiled docker-default filter and enforces argument rules', () => {
  const arch = hostArch();
  const policy = importOci(readFileSync(PROFILE, 'utf8'), PROFILE, { arch, kernelVersion: '6.18' }).policy;
  const result = compile(policy, { arch });
  const personality = syscallNumber(arch, 'personality')!;
  const clone3 = syscallNumber(arch, 'clone3')!;
  const outcomes = [
    runProgram(result.program),
    runProgram(result.program, { nr: personality, args: [0xffffffffn] }),
    runProgram(result.program, { nr: personality, args: [0x1234n] }),
    runProgram(result.program, { nr: clone3, args: [0n, 0n] }),
  ];
  assert.deepEqual(outcomes[0], { kind: 'loaded' });
  assert.equal(outcomes[1]?.kind === 'returned' && outcomes[1].ret >= 0n, true, 'personality query runs');
  assert.deepEqual(outcomes.slice(2), [
    { kind: 'returned', ret: -1n, errno: 1 },
    { kind: 'returned', ret: -1n, errno: 38 },
  ]);
});
