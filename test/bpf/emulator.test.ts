import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emulate,
  emulateCounted,
  emulateTraced,
  fillSeccompWords,
  prepareProgram,
  runPrepared,
  seccompWords,
  SECCOMP_DATA_WORDS,
  type SeccompInput,
} from '../../src/bpf/emulator.js';
import { disassemble } from '../../src/bpf/disasm.js';
import { jump, stmt, type SockFilter } from '../../src/bpf/insn.js';
import { actionToRet, SECCOMP_RET, type Action } from '../../src/policy/action.js';
import { AUDIT_ARCH, hostArch, syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import type { PeerCondition, PeerRule } from '../../bench/peers/libseccomp.js';
import { runProgram, type KernelOutcome } from '../oracle/kernel-run.js';
import { libseccompProgram } from './oracles.js';

// Opcodes spelled out so each test reads as the instruction it exercises.
const LD_ABS = 0x20;
const LD_IMM = 0x00;
const LDX_IMM = 0x01;
const LD_LEN = 0x80;
const LDX_LEN = 0x81;
const LD_MEM = 0x60;
const LDX_MEM = 0x61;
const ST = 0x02;
const STX = 0x03;
const TAX = 0x07;
const TXA = 0x87;
const RET_K = 0x06;
const RET_A = 0x16;
const JA = 0x05;
const JEQ_K = 0x15;
const JEQ_X = 0x1d;
const JGT_K = 0x25;
const JGT_X = 0x2d;
const JGE_K = 0x35;
const JGE_X = 0x3d;
const JSET_K = 0x45;
const JSET_X = 0x4d;
const ALU = {
  add: 0x04,
  sub: 0x14,
  mul: 0x24,
  div: 0x34,
  or: 0x44,
  and: 0x54,
  lsh: 0x64,
  rsh: 0x74,
  xor: 0xa4,
} as const;
const ALU_NEG = 0x84;
const X_SOURCE = 0x08;

const ALLOW = SECCOMP_RET.ALLOW;
const INPUT: SeccompInput = { nr: 7, arch: AUDIT_ARCH.x86_64, args: [] };

/** Runs `A = a; X = x; <body>; return A`. */
function alu(a: number, x: number, ...body: SockFilter[]): number {
  return emulate([stmt(LD_IMM, a), stmt(LDX_IMM, x), ...body, stmt(RET_A, 0)], INPUT);
}

/** Which branch a conditional jump on A (and X) takes: 1 when taken, 2 when not. */
function branch(code: number, a: number, k: number, x = 0): number {
  return emulate(
    [stmt(LD_IMM, a), stmt(LDX_IMM, x), jump(code, k, 0, 1), stmt(RET_K, 1), stmt(RET_K, 2)],
    INPUT,
  );
}

test('loads of seccomp_data fields, little-endian layout', () => {
  const data: SeccompInput = {
    nr: 59,
    arch: AUDIT_ARCH.x86_64,
    ip: 0x1122334455667788n,
    args: [0x100000002n, 3n, 0n, 0n, 0n, 0xffffffff00000001n],
  };
  const load = (offset: number): number => emulate([stmt(LD_ABS, offset), stmt(RET_A, 0)], data);
  assert.equal(load(0), 59);
  assert.equal(load(4), AUDIT_ARCH.x86_64);
  assert.equal(load(8), 0x55667788);
  assert.equal(load(12), 0x11223344);
  assert.equal(load(16), 2);
  assert.equal(load(20), 1);
  assert.equal(load(24), 3);
  assert.equal(load(56), 1);
  assert.equal(load(60), 0xffffffff);
});

test('big-endian layout puts the high word of each u64 first', () => {
  const data: SeccompInput = { nr: 1, arch: AUDIT_ARCH.s390x, ip: 0xaabbccdd00000001n, args: [0x100000002n] };
  const load = (offset: number): number =>
    emulate([stmt(LD_ABS, offset), stmt(RET_A, 0)], data, { bigEndian: true });
  assert.equal(load(16), 1);
  assert.equal(load(20), 2);
  assert.equal(load(8), 0xaabbccdd);
  assert.equal(load(12), 1);
});

test("negative arguments become their 64-bit two's complement; missing ones are 0", () => {
  const words = seccompWords({ nr: 1, arch: 2, args: [-1n] });
  assert.equal(words[4], 0xffffffff);
  assert.equal(words[5], 0xffffffff);
  assert.equal(words[6], 0);
  assert.throws(
    () => seccompWords({ nr: 1, arch: 2, args: [0n, 0n, 0n, 0n, 0n, 0n, 0n] }),
    /at most 6 arguments/,
  );
});

test('immediates, length loads, scratch memory and register moves', () => {
  assert.equal(emulate([stmt(LD_IMM, 0xdeadbeef), stmt(RET_A, 0)], INPUT), 0xdeadbeef);
  assert.equal(emulate([stmt(LD_LEN, 0), stmt(RET_A, 0)], INPUT), 64);
  assert.equal(emulate([stmt(LDX_LEN, 0), stmt(TXA, 0), stmt(RET_A, 0)], INPUT), 64);
  assert.equal(
    emulate([stmt(LD_IMM, 5), stmt(ST, 15), stmt(LD_IMM, 0), stmt(LD_MEM, 15), stmt(RET_A, 0)], INPUT),
    5,
  );
  assert.equal(
    emulate([stmt(LDX_IMM, 9), stmt(STX, 3), stmt(LDX_MEM, 3), stmt(TXA, 0), stmt(RET_A, 0)], INPUT),
    9,
  );
  assert.equal(
    emulate([stmt(LD_IMM, 4), stmt(TAX, 0), stmt(LD_IMM, 0), stmt(TXA, 0), stmt(RET_A, 0)], INPUT),
    4,
  );
  assert.equal(emulate([stmt(RET_K, 0x00050001)], INPUT), 0x00050001);
});

test('ALU with constants wraps at 32 bits, unsigned', () => {
  assert.equal(alu(0xffffffff, 0, stmt(ALU.add, 2)), 1);
  assert.equal(alu(0, 0, stmt(ALU.sub, 1)), 0xffffffff);
  assert.equal(alu(0x10000, 0, stmt(ALU.mul, 0x10000)), 0);
  assert.equal(alu(0xffffffff, 0, stmt(ALU.mul, 0xffffffff)), 1);
  assert.equal(alu(0xfffffffe, 0, stmt(ALU.div, 2)), 0x7fffffff);
  assert.equal(alu(7, 0, stmt(ALU.div, 2)), 3);
  assert.equal(alu(0xf0, 0, stmt(ALU.and, 0x3c)), 0x30);
  assert.equal(alu(0xf0, 0, stmt(ALU.or, 0x0f)), 0xff);
  assert.equal(alu(0xff, 0, stmt(ALU.xor, 0xffffffff)), 0xffffff00);
  assert.equal(alu(1, 0, stmt(ALU.lsh, 31)), 0x80000000);
  assert.equal(alu(0x80000000, 0, stmt(ALU.rsh, 31)), 1);
  assert.equal(alu(1, 0, stmt(ALU_NEG, 0)), 0xffffffff);
  assert.equal(alu(0, 0, stmt(ALU_NEG, 0)), 0);
});

test('ALU with X, division by X = 0 returns 0 from the filter, shifts by X use the low 5 bits', () => {
  assert.equal(alu(5, 0xfffffffb, stmt(ALU.add | X_SOURCE, 0)), 0);
  assert.equal(alu(5, 6, stmt(ALU.sub | X_SOURCE, 0)), 0xffffffff);
  assert.equal(alu(3, 0x80000000, stmt(ALU.mul | X_SOURCE, 0)), 0x80000000);
  assert.equal(alu(100, 7, stmt(ALU.div | X_SOURCE, 0)), 14);
  assert.equal(alu(100, 0, stmt(ALU.div | X_SOURCE, 0), stmt(LD_IMM, 1)), 0);
  assert.equal(alu(0xff, 0x0f, stmt(ALU.and | X_SOURCE, 0)), 0x0f);
  assert.equal(alu(0xf0, 0x0f, stmt(ALU.or | X_SOURCE, 0)), 0xff);
  assert.equal(alu(0xff, 0x0f, stmt(ALU.xor | X_SOURCE, 0)), 0xf0);
  assert.equal(alu(1, 33, stmt(ALU.lsh | X_SOURCE, 0)), 2);
  assert.equal(alu(0x80000000, 63, stmt(ALU.rsh | X_SOURCE, 0)), 1);
});

test('conditional jumps compare unsigned, with K and with X', () => {
  assert.equal(branch(JEQ_K, 5, 5), 1);
  assert.equal(branch(JEQ_K, 5, 6), 2);
  assert.equal(branch(JGT_K, 0x80000000, 1), 1);
  assert.equal(branch(JGT_K, 1, 1), 2);
  assert.equal(branch(JGE_K, 1, 1), 1);
  assert.equal(branch(JGE_K, 0, 1), 2);
  assert.equal(branch(JSET_K, 0x40000001, 0x40000000), 1);
  assert.equal(branch(JSET_K, 0x3fffffff, 0x40000000), 2);
  assert.equal(branch(JEQ_X, 9, 0, 9), 1);
  assert.equal(branch(JEQ_X, 9, 0, 8), 2);
  assert.equal(branch(JGT_X, 0xffffffff, 0, 0x7fffffff), 1);
  assert.equal(branch(JGE_X, 3, 0, 4), 2);
  assert.equal(branch(JSET_X, 6, 0, 1), 2);
  assert.equal(branch(JSET_X, 6, 0, 2), 1);
});

test('JA skips forward by k; the count and path describe the run', () => {
  const program = [stmt(JA, 2), stmt(RET_K, 1), stmt(RET_K, 2), stmt(LD_ABS, 0), stmt(RET_A, 0)];
  assert.deepEqual(emulateCounted(program, INPUT), { ret: 7, executed: 3 });
  const traced = emulateTraced(program, INPUT);
  assert.deepEqual(traced.path, [0, 3, 4]);
  assert.deepEqual(traced.loadedOffsets, [0]);
  assert.deepEqual(traced.action, { kind: 'kill_thread' });
});

test('runPrepared reuses the words buffer and reports executed instructions', () => {
  const prepared = prepareProgram([
    stmt(LD_ABS, 0),
    jump(JEQ_K, 1, 0, 1),
    stmt(RET_K, ALLOW),
    stmt(RET_K, 0),
  ]);
  const words = new Uint32Array(SECCOMP_DATA_WORDS);
  fillSeccompWords(words, { nr: 1, arch: 0, args: [] });
  assert.equal(runPrepared(prepared, words), ALLOW);
  assert.equal(prepared.executed, 3);
  fillSeccompWords(words, { nr: 2, arch: 0, args: [] });
  assert.equal(runPrepared(prepared, words), 0);
  assert.equal(prepared.executed, 3);
  assert.throws(() => runPrepared(prepared, new Uint32Array(4)), /16 words/);
});

test('the emulator refuses programs the kernel would refuse', () => {
  assert.throws(() => emulate([stmt(LD_ABS, 2), stmt(RET_A, 0)], INPUT), /instruction 0: .*aligned/);
  assert.throws(() => prepareProgram([stmt(LD_IMM, 1)]), /last instruction must be a return/);
});

// ---- The kernel as oracle: random programs run here and in a forked child of this machine's kernel ----

/** A syscall number no ABI of the host assigns: when the filter allows it, the kernel says ENOSYS. */
const PROBE_NR = 1000;
const ENOSYS = 38;

/** The outcome the kernel shows for a filter return value on the probe syscall. */
function expectedOutcome(ret: number): KernelOutcome {
  const action = (ret & 0xffff0000) >>> 0;
  if (action === SECCOMP_RET.ALLOW) return { kind: 'returned', ret: -1n, errno: ENOSYS };
  if (action === SECCOMP_RET.ERRNO) return { kind: 'returned', ret: -1n, errno: ret & 0xffff };
  return { kind: 'signal', signal: 'SIGSYS' };
}

type BodyOp = (remaining: number) => SockFilter;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bodyOp: fc.Arbitrary<BodyOp> = fc.oneof(
  fc.tuple(fc.constantFrom(...Object.values(ALU)), u32, fc.boolean()).map(
    ([code, k, useX]) =>
      () =>
        useX
          ? stmt(code | X_SOURCE, 0)
          : stmt(code, code === ALU.div ? k || 1 : code === ALU.lsh || code === ALU.rsh ? k % 32 : k),
  ),
  fc.constant(() => stmt(ALU_NEG, 0)),
  fc.integer({ min: 0, max: 11 }).map((word) => () => stmt(LD_ABS, 16 + word * 4)),
  u32.map((k) => () => stmt(LDX_IMM, k)),
  fc.constantFrom(TAX, TXA).map((code) => () => stmt(code, 0)),
  fc.tuple(fc.constantFrom(ST, STX, LD_MEM, LDX_MEM), fc.integer({ min: 0, max: 15 })).map(
    ([code, slot]) =>
      () =>
        stmt(code, slot),
  ),
  fc
    .tuple(
      fc.constantFrom(JEQ_K, JGT_K, JGE_K, JSET_K, JEQ_X, JGT_X, JGE_X, JSET_X),
      u32,
      fc.nat(3),
      fc.nat(3),
    )
    .map(
      ([code, k, jt, jf]) =>
        (remaining: number) =>
          jump(code, k, Math.min(jt, remaining), Math.min(jf, remaining)),
    ),
);

/** Probe prologue (other syscalls pass), every scratch slot written, then `ops`, ending in `return A`. */
function probeProgram(ops: readonly BodyOp[]): SockFilter[] {
  const prologue = [stmt(LD_ABS, 0), jump(JEQ_K, PROBE_NR, 1, 0), stmt(RET_K, ALLOW)];
  const initMemory = Array.from({ length: 16 }, (_, slot) => stmt(ST, slot));
  const body = ops.map((op, i) => op(ops.length - i - 1));
  return [...prologue, stmt(LD_ABS, 16), ...initMemory, ...body, stmt(RET_A, 0)];
}

/** Replaces the final `return A` with "return ERRNO(1) iff A equals what the emulator computed". */
function withCheck(program: readonly SockFilter[], expectedA: number): SockFilter[] {
  return [
    ...program.slice(0, -1),
    jump(JEQ_K, expectedA, 0, 1),
    stmt(RET_K, 0x00050001),
    stmt(RET_K, 0x00050002),
  ];
}

test("emulator agrees with this machine's kernel on random programs (full 32-bit results)", () => {
  const arch: Arch = hostArch();
  const samples = fc.sample(
    fc.record({
      ops: fc.array(bodyOp, { minLength: 1, maxLength: 24 }),
      args: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 6, maxLength: 6 }),
    }),
    { numRuns: 300, seed: 20240607 },
  );
  const cases = samples.map(({ ops, args }) => {
    const input: SeccompInput = { nr: PROBE_NR, arch: AUDIT_ARCH[arch], args };
    const raw = probeProgram(ops);
    const ret = emulate(raw, input);
    // A division by X = 0 ends the run with 0; keep such programs as they are (the kernel must kill).
    const divByZero = emulateTraced(raw, input).path.at(-1) !== raw.length - 1;
    const program = divByZero ? raw : withCheck(raw, ret);
    return { program, input, expected: expectedOutcome(emulate(program, input)) };
  });
  assert.ok(
    cases.some((c) => c.expected.kind === 'signal'),
    'some samples divide by zero',
  );
  cases.forEach((c, i) => {
    const outcome = runProgram(c.program, { nr: PROBE_NR, args: c.input.args });
    assert.deepEqual(outcome, c.expected, `sample ${i}:\n${disassemble(c.program)}`);
  });
});

// ---- libseccomp as oracle: its filters must decide as its rules say ----

const ALLOW_ACTION: Action = { kind: 'allow' };

const ORACLE_RULES: readonly PeerRule[] = [
  { syscall: 'read', action: ALLOW_ACTION, conditions: [] },
  { syscall: 'ptrace', action: { kind: 'kill_process' }, conditions: [] },
  { syscall: 'write', action: ALLOW_ACTION, conditions: [{ index: 0, op: 'eq', value: 1n }] },
  {
    syscall: 'openat',
    action: { kind: 'errno', errno: 13 },
    conditions: [{ index: 2, op: 'masked_eq', mask: 3n, value: 1n }],
  },
  {
    syscall: 'mmap',
    action: ALLOW_ACTION,
    conditions: [
      { index: 2, op: 'le', value: 3n },
      { index: 1, op: 'gt', value: 0x1000n },
    ],
  },
  { syscall: 'close', action: ALLOW_ACTION, conditions: [{ index: 0, op: 'ge', value: 3n }] },
  { syscall: 'dup', action: ALLOW_ACTION, conditions: [{ index: 0, op: 'lt', value: 0x100000000n }] },
  { syscall: 'kill', action: ALLOW_ACTION, conditions: [{ index: 1, op: 'ne', value: 9n }] },
];
const DEFAULT_RET = 0x00050001;

/** A condition as libseccomp compiles it: on a 32-bit ABI the argument and the datum are cut to 32 bits. */
function conditionHolds(c: PeerCondition, args: readonly bigint[], bits: number): boolean {
  const arg = BigInt.asUintN(bits, args[c.index] ?? 0n);
  const value = BigInt.asUintN(bits, c.value);
  switch (c.op) {
    case 'eq':
      return arg === value;
    case 'ne':
      return arg !== value;
    case 'gt':
      return arg > value;
    case 'ge':
      return arg >= value;
    case 'lt':
      return arg < value;
    case 'le':
      return arg <= value;
    case 'masked_eq':
      return (arg & BigInt.asUintN(bits, c.mask ?? 0n)) === value;
  }
}

function expectedByRules(arch: Arch, nr: number, args: readonly bigint[]): number {
  const bits = arch === 'i386' ? 32 : 64;
  const rule = ORACLE_RULES.find((r) => syscallNumber(arch, r.syscall) === nr);
  if (rule === undefined || !rule.conditions.every((c) => conditionHolds(c, args, bits))) return DEFAULT_RET;
  return actionToRet(rule.action);
}

test("emulator decides libseccomp's filter exactly as its rules say (x86_64, i386; x32 hits the bad-arch action)", () => {
  const program = libseccompProgram({ kind: 'errno', errno: 1 }, ['x86_64', 'i386'], ORACLE_RULES);
  assert.match(disassemble(program, { arch: 'x86_64' }), /if \(A == read\) goto/);
  const argSets: bigint[][] = [
    [0n, 0n, 0n],
    [1n, 0n, 0n],
    [0x100000001n, 0x2000n, 2n],
    [3n, 0x1001n, 3n],
    [2n, 0x1000n, 4n],
    [0xffffffffn, 9n, 0x100000001n],
    [0x100000000n, 8n, 1n],
    [5n, 0x100000000n, 0xffffffff00000003n],
  ];
  for (const arch of ['x86_64', 'i386'] as const) {
    for (const rule of [...ORACLE_RULES, { syscall: 'getpid' }]) {
      const nr = syscallNumber(arch, rule.syscall) as number;
      for (const args of argSets) {
        const visible = arch === 'i386' ? args.map((a) => BigInt.asUintN(32, a)) : args;
        const got = emulate(program, { nr, arch: AUDIT_ARCH[arch], args: visible });
        assert.equal(
          got,
          expectedByRules(arch, nr, visible),
          `${arch} ${rule.syscall}(${visible.join(', ')})`,
        );
      }
    }
  }
  const x32Read = syscallNumber('x32', 'read') as number;
  assert.equal(emulate(program, { nr: x32Read, arch: AUDIT_ARCH.x32, args: [] }), SECCOMP_RET.KILL_THREAD);
  assert.equal(emulate(program, { nr: 0, arch: AUDIT_ARCH.aarch64, args: [] }), SECCOMP_RET.KILL_THREAD);
});
