/**
 * Docker's default profile, the compiler's benchmark: compared with libseccomp's filter for the same
 * rules (python3-seccomp, binary tree, optimize level 2) on instructions executed per x86_64 syscall,
 * program length and decisions; compile time; and the real kernel accepts and enforces the program.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile } from '../../src/bpf/compiler.js';
import { emulateCounted } from '../../src/bpf/emulator.js';
import { decodeProgram, type Program } from '../../src/bpf/insn.js';
import { validateProgram } from '../../src/bpf/validate.js';
import { importOci } from '../../src/formats/oci-import.js';
import type { Action } from '../../src/policy/action.js';
import type { ArgCondition, ResolvedPolicy } from '../../src/policy/ir.js';
import { AUDIT_ARCH, hostArch, syscallEntries, syscallNumber } from '../../src/syscalls/arch.js';
import { ZERO_ARGS } from './compiler-fixtures.js';
import { kernelRun, libseccompFilter } from './oracles.js';

const PROFILE = '/work/shared/data/profiles/docker-default.json';

function dockerDefault(): ResolvedPolicy {
  return importOci(readFileSync(PROFILE, 'utf8'), PROFILE, { arch: 'x86_64', kernelVersion: '6.18' }).policy;
}

function pythonAction(action: Action): string {
  switch (action.kind) {
    case 'allow':
      return 'ALLOW';
    case 'errno':
      return `ERRNO(${action.errno})`;
    case 'kill_thread':
      return 'KILL';
    case 'kill_process':
      return 'KILL_PROCESS';
    case 'trap':
      return 'TRAP';
    case 'log':
      return 'LOG';
    case 'trace':
      return `TRACE(${action.data})`;
    case 'notify':
      return 'NOTIFY';
  }
}

function pythonArg(condition: ArgCondition): string {
  if (condition.width !== 64) throw new Error('the libseccomp comparison expects 64-bit conditions (OCI)');
  const op = condition.op.toUpperCase();
  return condition.op === 'masked_eq'
    ? `Arg(${condition.index}, MASKED_EQ, ${condition.mask ?? 0xffffffffffffffffn}, ${condition.value})`
    : `Arg(${condition.index}, ${op}, ${condition.value})`;
}

/** libseccomp's x86_64 (+ x32, i386) filter for the policy's rules; names it cannot resolve go to `skippedFile`. */
function libseccompProgram(policy: ResolvedPolicy, skippedFile: string): Program {
  const rules = policy.rules.flatMap((rule) =>
    rule.syscalls.map(
      (name) =>
        `try:\n    f.add_rule(${pythonAction(rule.action)}, ${JSON.stringify(name)}${rule.conditions.map((c) => `, ${pythonArg(c)}`).join('')})\n` +
        `except Exception:\n    skipped.append(${JSON.stringify(name)})`,
    ),
  );
  const script = [
    'import json',
    `f = SyscallFilter(defaction=${pythonAction(policy.defaultAction)})`,
    'f.add_arch(Arch.X32)',
    'f.add_arch(Arch.X86)',
    'f.set_attr(Attr.CTL_OPTIMIZE, 2)',
    'skipped = []',
    ...rules,
    `json.dump(skipped, open(${JSON.stringify(skippedFile)}, 'w'))`,
  ].join('\n');
  return decodeProgram(libseccompFilter(script));
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
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-compiler-'));
  try {
    const skippedFile = join(dir, 'skipped.json');
    const theirs = libseccompProgram(policy, skippedFile);
    const skipped = new Set(JSON.parse(readFileSync(skippedFile, 'utf8')) as string[]);

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
      if (skipped.has(name)) continue;
      const input = { arch: AUDIT_ARCH.x86_64, nr, args: ZERO_ARGS };
      assert.equal(emulateCounted(ours.program, input).ret, emulateCounted(theirs, input).ret, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docker-default: every allowed arg-free syscall is cacheable; compiles in under 20 ms', () => {
  const policy = dockerDefault();
  const result = compile(policy, { arch: 'x86_64' });
  const native = result.stats.cacheable.find((entry) => entry.abi === 'x86_64')!.syscalls;
  const argFree = syscallEntries('x86_64').filter(([name]) =>
    policy.rules.some(
      (rule) => rule.syscalls.includes(name) && rule.action.kind === 'allow' && rule.conditions.length === 0,
    ),
  );
  assert.equal(native.length, argFree.length);
  const times: number[] = [];
  for (let run = 0; run < 15; run++) {
    const start = performance.now();
    compile(policy, { arch: 'x86_64' });
    times.push(performance.now() - start);
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  assert.ok(median < 20, `median compile time ${median.toFixed(1)} ms`);
});

test('the kernel accepts the compiled docker-default filter and enforces argument rules', () => {
  const arch = hostArch();
  const policy = importOci(readFileSync(PROFILE, 'utf8'), PROFILE, { arch, kernelVersion: '6.18' }).policy;
  const result = compile(policy, { arch });
  const personality = syscallNumber(arch, 'personality')!;
  const clone3 = syscallNumber(arch, 'clone3')!;
  const outcomes = kernelRun([
    { program: result.program },
    { program: result.program, call: { nr: personality, args: [0xffffffffn] } },
    { program: result.program, call: { nr: personality, args: [0x1234n] } },
    { program: result.program, call: { nr: clone3, args: [0n, 0n] } },
  ]);
  assert.deepEqual(outcomes, [
    { kind: 'exited', code: 0 },
    { kind: 'returned', result: 0, errno: 0 },
    { kind: 'returned', result: -1, errno: 1 },
    { kind: 'returned', result: -1, errno: 38 },
  ]);
});
