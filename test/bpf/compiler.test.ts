/**
 * Specific behaviours of the seccomp compiler: architecture handling (x32, i386, foreign arches, nr -1),
 * folding, far-jump fixups, the BPF_MAXINSNS limit, tail sharing, cacheability, profile-guided layout,
 * errors and the C output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheableSyscalls } from '../../src/bpf/cache.js';
import { compile, CompileError, type CompileResult } from '../../src/bpf/compiler.js';
import { formatC } from '../../src/bpf/format-c.js';
import { BPF_ABS, BPF_JA, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_W, SECCOMP_DATA } from '../../src/bpf/insn.js';
import { validateProgram } from '../../src/bpf/validate.js';
import { actionToRet } from '../../src/policy/action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import type { Arch } from '../../src/syscalls/arch.js';
import { AUDIT_ARCH, syscallEntries, syscallNumber } from '../../src/syscalls/arch.js';
import {
  ALLOW,
  cond32,
  cond64,
  ENOSYS,
  EPERM,
  expectedRet,
  KILL,
  pathLength,
  policyOf,
  ProgramRunner,
  rule,
  TRAP,
} from './compiler-fixtures.js';

const LD_ABS = BPF_LD | BPF_W | BPF_ABS;
const X86_64 = AUDIT_ARCH.x86_64;
const I386 = AUDIT_ARCH.i386;

function nr(abi: Arch, name: string): number {
  const value = syscallNumber(abi, name);
  if (value === undefined) throw new Error(`${name} has no number on ${abi}`);
  return value;
}

/** Every table number of every ABI the program covers, with the given argument vectors, agrees with the evaluator. */
function assertDecidesLikeEvaluator(
  policy: ResolvedPolicy,
  result: CompileResult,
  argSets: readonly (readonly bigint[])[],
): void {
  validateProgram(result.program);
  const runner = new ProgramRunner(result);
  for (const abi of result.abis) {
    for (const [, number] of syscallEntries(abi)) {
      for (const args of argSets) {
        assert.equal(
          runner.ret(AUDIT_ARCH[abi], number, args),
          expectedRet(policy, result, AUDIT_ARCH[abi], number, args) >>> 0,
          `${abi} nr ${number} args ${args.join(',')}`,
        );
      }
    }
  }
}

function argLoads(result: CompileResult): number {
  return result.program.filter((insn) => insn.code === LD_ABS && insn.k >= SECCOMP_DATA.ARGS).length;
}

test('the architecture is checked first, native ABI first, before the number is loaded', () => {
  const result = compile(policyOf([rule(['read'], ALLOW)]), { arch: 'x86_64' });
  assert.deepEqual(result.program[0], { code: LD_ABS, jt: 0, jf: 0, k: SECCOMP_DATA.ARCH });
  assert.equal(result.program[1]!.code, BPF_JMP | BPF_JEQ | BPF_K);
  assert.equal(result.program[1]!.k, X86_64);
  assert.deepEqual(result.abis, ['x86_64', 'x32', 'i386']);

  const arm = compile(policyOf([rule(['read'], ALLOW)], { architectures: ['arm', 'aarch64'] }), {
    arch: 'aarch64',
  });
  assert.equal(arm.program[1]!.k, AUDIT_ARCH.aarch64, 'aarch64 is compared before its compat arm');
  assert.deepEqual(arm.abis, ['aarch64', 'arm']);
});

test('x32 numbers are rejected unless x32 is listed, and x86_64 numbers unless x86_64 is', () => {
  const rules = [rule(['read', 'write'], ALLOW)];
  const x32Read = nr('x32', 'read');
  assert.equal(x32Read, 0x40000000);
  const retFor = (architectures: Arch[], number: number): number =>
    new ProgramRunner(compile(policyOf(rules, { architectures }), { arch: 'x86_64' })).ret(X86_64, number);

  assert.equal(retFor(['x86_64'], 0), actionToRet(ALLOW));
  assert.equal(retFor(['x86_64'], x32Read), actionToRet(KILL), 'x32 read is a bad arch');
  assert.equal(retFor(['x86_64'], 0x40000000 | 9999), actionToRet(KILL), 'any x32 number is a bad arch');
  assert.equal(retFor(['x86_64', 'x32'], x32Read), actionToRet(ALLOW));
  assert.equal(retFor(['x86_64', 'x32'], 0x40000000 | 9999), actionToRet(ENOSYS), 'unknown x32 number');
  assert.equal(retFor(['x32'], x32Read), actionToRet(ALLOW));
  assert.equal(retFor(['x32'], 0), actionToRet(KILL), 'x86_64 read is a bad arch when only x32 is listed');
  assert.equal(retFor(['x32'], 0xc0000000), actionToRet(ENOSYS), 'bit 30 set: x32, unknown');
});

test('nr 0xffffffff (ptrace skip) is an x86_64 number, never x32', () => {
  const rules = [rule(['read'], ALLOW)];
  const runner = (architectures: Arch[]): ProgramRunner =>
    new ProgramRunner(compile(policyOf(rules, { architectures }), { arch: 'x86_64' }));
  assert.equal(runner(['x86_64']).ret(X86_64, 0xffffffff), actionToRet(ENOSYS));
  assert.equal(runner(['x86_64', 'x32']).ret(X86_64, 0xffffffff), actionToRet(ENOSYS));
  assert.equal(runner(['x32']).ret(X86_64, 0xffffffff), actionToRet(KILL));
  assert.equal(runner(['x32']).ret(X86_64, 0xfffffffe), actionToRet(ENOSYS), '0xfffffffe has bit 30: x32');
});

test('i386 syscalls are decided by AUDIT_ARCH_I386 with i386 numbers', () => {
  const policy = policyOf([rule(['getpid'], ALLOW)], { architectures: ['x86_64', 'i386'] });
  const runner = new ProgramRunner(compile(policy, { arch: 'x86_64' }));
  assert.equal(runner.ret(I386, nr('i386', 'getpid')), actionToRet(ALLOW));
  assert.equal(
    runner.ret(X86_64, nr('i386', 'getpid')),
    actionToRet(EPERM),
    'i386 getpid (20) is writev on x86_64',
  );
  assert.equal(runner.ret(X86_64, nr('x86_64', 'getpid')), actionToRet(ALLOW));
  assert.equal(runner.ret(I386, 0x7fffffff), actionToRet(ENOSYS));
  const withoutI386 = new ProgramRunner(
    compile(policyOf([rule(['getpid'], ALLOW)], { architectures: ['x86_64'] }), { arch: 'x86_64' }),
  );
  assert.equal(withoutI386.ret(I386, nr('i386', 'getpid')), actionToRet(KILL));
});

test('an arch the kernel cannot run, or an unknown arch value, gets badArchAction', () => {
  const policy = policyOf([rule(['read'], ALLOW)], { architectures: ['x86_64', 'aarch64'] });
  const result = compile(policy, { arch: 'x86_64' });
  const runner = new ProgramRunner(result);
  assert.deepEqual(result.abis, ['x86_64']);
  assert.equal(runner.ret(AUDIT_ARCH.aarch64, 63), actionToRet(KILL));
  assert.equal(runner.ret(0x12345678, 0), actionToRet(KILL));
  assert.match(result.warnings.join('\n'), /aarch64/);
});

test('a policy listing none of the kernel ABIs is a CompileError naming what it lists', () => {
  const policy = policyOf([rule(['read'], ALLOW)], { architectures: ['aarch64', 'arm'] });
  assert.throws(
    () => compile(policy, { arch: 'x86_64' }),
    (error: unknown) => {
      assert.ok(error instanceof CompileError);
      assert.match(error.message, /aarch64, arm/);
      assert.match(error.message, /x86_64, x32, i386/);
      return true;
    },
  );
});

test('invalid conditions and actions are CompileErrors with the rule location', () => {
  const bad: ArgCondition[] = [
    { index: 6 as ArgCondition['index'], op: 'eq', value: 1n, width: 32 },
    { index: 0, op: 'eq', value: 1n << 32n, width: 32 },
    { index: 0, op: 'eq', value: -1n, width: 64 },
    { index: 0, op: 'eq', value: 1n, mask: 1n, width: 32 },
    { index: 0, op: 'masked_eq', value: 1n, mask: 1n << 40n, width: 32 },
    { index: 0, op: 'bogus' as ArgCondition['op'], value: 1n, width: 32 },
    { index: 0, op: 'eq', value: 1n, width: 16 as ArgCondition['width'] },
  ];
  for (const condition of bad) {
    assert.throws(
      () => compile(policyOf([rule(['read'], ALLOW, [condition])]), { arch: 'x86_64' }),
      /test\.yaml:1:1: invalid argument condition/,
    );
  }
  assert.throws(
    () => compile(policyOf([rule(['read'], { kind: 'errno', errno: 5000 })]), { arch: 'x86_64' }),
    CompileError,
  );
  assert.throws(
    () => compile(policyOf([], { defaultAction: { kind: 'trap', data: 1 << 16 } }), { arch: 'x86_64' }),
    CompileError,
  );
});

test('conditions that always hold or never hold fold away', () => {
  const plain = compile(policyOf([rule(['read'], ALLOW)]), { arch: 'x86_64' });
  const alwaysTrue = [cond32(0, 'ge', 0n), cond64(1, 'le', (1n << 64n) - 1n), cond64(2, 'masked_eq', 0n, 0n)];
  const folded = compile(policyOf([rule(['read'], ALLOW, alwaysTrue)]), { arch: 'x86_64' });
  assert.deepEqual(folded.program, plain.program);

  const never = policyOf([
    rule(['read'], ALLOW, [cond32(0, 'lt', 0n)]),
    rule(['read'], TRAP, [cond32(0, 'masked_eq', 2n, 1n)]),
  ]);
  const result = compile(never, { arch: 'x86_64' });
  assert.equal(argLoads(result), 0, 'no argument is loaded for rules that never match');
  assert.equal(new ProgramRunner(result).ret(X86_64, 0), actionToRet(EPERM));
  assert.equal(result.warnings.filter((w) => /never matches/.test(w)).length, 2);
});

test('64-bit conditions compare the high word, 32-bit ones ignore it; s390x loads big-endian words', () => {
  const policy = policyOf(
    [rule(['read'], ALLOW, [cond64(0, 'gt', 0x1_0000_0005n)]), rule(['write'], ALLOW, [cond32(1, 'eq', 7n)])],
    { architectures: ['x86_64', 's390x'] },
  );
  for (const arch of ['x86_64', 's390x'] as const) {
    const result = compile(policy, { arch });
    const runner = new ProgramRunner(result);
    const [read, write] = [nr(arch, 'read'), nr(arch, 'write')];
    const audit = AUDIT_ARCH[arch];
    assert.equal(runner.ret(audit, read, [0x1_0000_0006n]), actionToRet(ALLOW));
    assert.equal(runner.ret(audit, read, [0x2_0000_0000n]), actionToRet(ALLOW));
    assert.equal(runner.ret(audit, read, [0x1_0000_0005n]), actionToRet(EPERM));
    assert.equal(runner.ret(audit, read, [0x0_ffff_ffffn]), actionToRet(EPERM));
    assert.equal(runner.ret(audit, write, [0n, 0xffff_ffff_0000_0007n]), actionToRet(ALLOW));
    assert.equal(runner.ret(audit, write, [0n, 0x0000_0001_0000_0008n]), actionToRet(EPERM));
    const lowWordOfArg1 = arch === 's390x' ? 16 + 8 + 4 : 16 + 8;
    assert.ok(
      result.program.some((insn) => insn.code === LD_ABS && insn.k === lowWordOfArg1),
      `${arch} loads arg1's low word`,
    );
    assert.equal(result.bigEndian, arch === 's390x');
  }
});

test('on 32-bit ABIs conditions compare the low word only, so a garbage upper half cannot slip past', () => {
  const policy = policyOf([rule(['socket'], EPERM, [cond64(0, 'eq', 38n)])], {
    architectures: ['x86_64', 'i386'],
    defaultAction: ALLOW,
  });
  const runner = new ProgramRunner(compile(policy, { arch: 'x86_64' }));
  const upperGarbage = [0x1_0000_0026n];
  assert.equal(runner.ret(I386, nr('i386', 'socket'), upperGarbage), actionToRet(EPERM));
  assert.equal(runner.ret(I386, nr('i386', 'socket'), [38n]), actionToRet(EPERM));
  assert.equal(runner.ret(X86_64, nr('x86_64', 'socket'), upperGarbage), actionToRet(ALLOW));
  assert.equal(runner.ret(X86_64, nr('x86_64', 'socket'), [38n]), actionToRet(EPERM));
});

test('far jumps are fixed with trampolines and the program still validates and decides right', () => {
  // A hundred syscalls with distinct 64-bit argument checks: the tree's jumps to them exceed 255.
  const names = syscallEntries('x86_64')
    .slice(0, 100)
    .map(([name]) => name);
  const rules = names.map((name, i) =>
    rule([name], i % 2 === 0 ? ALLOW : TRAP, [cond64(0, 'eq', BigInt(i) << 33n), cond32(1, 'ne', BigInt(i))]),
  );
  const policy = policyOf(rules, { architectures: ['x86_64'] });
  const result = compile(policy, { arch: 'x86_64' });
  assert.ok(result.program.length > 600, `program has ${result.program.length} instructions`);
  assert.ok(result.stats.jumpsAdded + result.stats.returnsCopied > 0, 'some jump needed a trampoline');
  const argSets = [
    [0n, 0n],
    ...names.map((_, i) => [BigInt(i) << 33n, 0n]),
    ...names.map((_, i) => [BigInt(i) << 33n, BigInt(i)]),
  ];
  assertDecidesLikeEvaluator(policy, result, argSets);
});

test('jumps are threaded: no jump lands on an unconditional jump', () => {
  const policy = policyOf(
    syscallEntries('x86_64')
      .slice(0, 60)
      .map(([name], i) => rule([name], ALLOW, [cond32(0, 'eq', BigInt(i))])),
  );
  const { program } = compile(policy, { arch: 'x86_64' });
  const isJa = (at: number): boolean => program[at]!.code === (BPF_JMP | BPF_JA);
  program.forEach((insn, at) => {
    if (insn.code === (BPF_JMP | BPF_JA)) assert.ok(!isJa(at + 1 + insn.k), `ja at ${at} lands on a ja`);
    else if ((insn.code & 0x07) === BPF_JMP) {
      // A conditional jump may land on a trampoline only when its real target was out of range.
      for (const offset of [insn.jt, insn.jf]) {
        if (isJa(at + 1 + offset))
          assert.ok(at + 1 + offset + 1 + program[at + 1 + offset]!.k - at - 1 > 255);
      }
    }
  });
});

test('a program over 4096 instructions is a CompileError that says how many and what to do', () => {
  const rules: PolicyRule[] = syscallEntries('x86_64').map(([name], i) =>
    rule([name], ALLOW, [
      cond64(0, 'eq', BigInt(i) * 0x1_0000_0001n),
      cond64(1, 'gt', BigInt(i) * 0x1_0000_0001n),
      cond32(2, 'masked_eq', BigInt(i), 0xfffn),
    ]),
  );
  assert.throws(
    () => compile(policyOf(rules, { architectures: ['x86_64'] }), { arch: 'x86_64' }),
    (error: unknown) => {
      assert.ok(error instanceof CompileError);
      assert.match(error.message, /compiles to \d{4,} instructions/);
      assert.match(error.message, /4096/);
      assert.match(error.message, /fewer argument rules/);
      return true;
    },
  );
});

test('identical argument checks are emitted once (tail sharing)', () => {
  const conditions = [cond64(0, 'eq', 0x1234_5678_9n), cond32(2, 'masked_eq', 4n, 6n), cond32(3, 'lt', 100n)];
  const arches: Arch[] = ['x86_64'];
  const one = compile(policyOf([rule(['read'], ALLOW, conditions)], { architectures: arches }), {
    arch: 'x86_64',
  });
  const sameRule = compile(
    policyOf([rule(['read', 'mmap', 'ioctl'], ALLOW, conditions)], { architectures: arches }),
    { arch: 'x86_64' },
  );
  const separateRules = compile(
    policyOf(
      [
        rule(['read'], ALLOW, conditions),
        rule(['mmap'], ALLOW, conditions),
        rule(['ioctl'], ALLOW, conditions),
      ],
      { architectures: arches },
    ),
    { arch: 'x86_64' },
  );
  assert.equal(argLoads(one), 4);
  assert.equal(argLoads(sameRule), argLoads(one));
  assert.equal(argLoads(separateRules), argLoads(one));
  assert.deepEqual(separateRules.program, sameRule.program);
});

test('arg-free allows are cacheable: the report counts exactly the allowed syscalls, as the kernel walk does', () => {
  const allowed = [
    'read',
    'write',
    'close',
    'fstat',
    'mmap',
    'munmap',
    'brk',
    'exit_group',
    'futex',
    'openat',
  ];
  const policy = policyOf(
    [rule(['ioctl'], ALLOW, [cond32(1, 'eq', 0x5401n)]), rule(allowed, ALLOW), rule(['kill'], TRAP)],
    {
      architectures: ['x86_64', 'i386'],
    },
  );
  const result = compile(policy, { arch: 'x86_64' });
  for (const abi of ['x86_64', 'i386'] as const) {
    const reported = result.stats.cacheable.find((entry) => entry.abi === abi)!.syscalls;
    const expected = allowed.filter((name) => syscallNumber(abi, name) !== undefined);
    assert.deepEqual([...reported].sort(), [...expected].sort());
    assert.deepEqual([...cacheableSyscalls(result.program, abi).cacheable].sort(), [...expected].sort());
  }
});

test('a profile moves hot syscalls closer to the root', () => {
  const policy = policyOf(
    syscallEntries('x86_64')
      .filter((_, i) => i % 3 !== 0)
      .map(([name]) => rule([name], ALLOW)),
  );
  const plain = compile(policy, { arch: 'x86_64' });
  const deepest = syscallEntries('x86_64')
    .map(([name]) => ({ name, length: pathLength(plain, 'x86_64', name) }))
    .sort((a, b) => b.length - a.length)[0]!;
  const profiled = compile(policy, {
    arch: 'x86_64',
    profile: new Map([
      [deepest.name, 1_000_000],
      ['read', 10],
    ]),
  });
  const hot = pathLength(profiled, 'x86_64', deepest.name);
  assert.ok(hot < deepest.length, `${deepest.name}: ${hot} with profile vs ${deepest.length} without`);
  assert.ok(hot <= 6, `${deepest.name} takes ${hot} instructions`);
  assertDecidesLikeEvaluator(policy, profiled, [[0n]]);
  // Unprofiled syscalls keep a bounded path.
  const worst = Math.max(...syscallEntries('x86_64').map(([name]) => pathLength(profiled, 'x86_64', name)));
  assert.ok(worst <= 20, `worst path ${worst}`);
});

test('formatC renders a sock_filter array and its sock_fprog', () => {
  const result = compile(policyOf([rule(['read'], ALLOW)], { architectures: ['x86_64'] }), {
    arch: 'x86_64',
  });
  const text = formatC(result, 'sysfence_filter');
  assert.match(text, /static struct sock_filter sysfence_filter\[\] = \{\n\t\{ 0x20, 0, 0, 0x00000004 \},\n/);
  assert.match(text, /static struct sock_fprog sysfence_filter_prog = \{/);
  assert.equal(text.match(/^\t\{ 0x/gm)?.length, result.program.length);
  const lines = text.split('\n').filter((line) => line.startsWith('\t{ 0x'));
  lines.forEach((line, i) => {
    const insn = result.program[i]!;
    assert.equal(
      line,
      `\t{ 0x${insn.code.toString(16).padStart(2, '0')}, ${insn.jt}, ${insn.jf}, 0x${insn.k.toString(16).padStart(8, '0')} },`,
    );
  });
  assert.throws(() => formatC(result, '1bad name'), CompileError);
});
