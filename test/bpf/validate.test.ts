import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jump, stmt, type SockFilter } from '../../src/bpf/insn.js';
import { InvalidFilterError, validateProgram } from '../../src/bpf/validate.js';
import { runProgram } from '../oracle/kernel-run.js';

const RET_ALLOW = stmt(0x06, 0x7fff0000);
const RET_A = stmt(0x16, 0);
const LD_NR = stmt(0x20, 0);

interface Case {
  readonly name: string;
  readonly program: readonly SockFilter[];
  /** Expected failure: the instruction index (undefined for whole-program problems) and message. */
  readonly rejects?: { readonly index: number | undefined; readonly message: RegExp };
}

const CASES: readonly Case[] = [
  { name: 'minimal allow-all', program: [RET_ALLOW] },
  {
    name: 'every whitelisted opcode',
    program: [
      LD_NR,
      stmt(0x80, 0), // A = len
      stmt(0x81, 0), // X = len
      stmt(0x00, 1),
      stmt(0x01, 2),
      stmt(0x02, 0),
      stmt(0x03, 1),
      stmt(0x60, 0),
      stmt(0x61, 1),
      ...[0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0xa4].flatMap((op) => [
        stmt(op, 1),
        stmt(op | 0x08, 0),
      ]),
      stmt(0x84, 0),
      stmt(0x07, 0),
      stmt(0x87, 0),
      stmt(0x05, 0),
      ...[0x15, 0x25, 0x35, 0x45].flatMap((op) => [jump(op, 1, 0, 0), jump(op | 0x08, 0, 0, 0)]),
      RET_A,
    ],
  },
  {
    name: 'empty program',
    program: [],
    rejects: { index: undefined, message: /1 to 4096 instructions; this one has 0/ },
  },
  {
    name: 'longer than BPF_MAXINSNS',
    program: new Array<SockFilter>(4097).fill(RET_ALLOW),
    rejects: { index: undefined, message: /this one has 4097/ },
  },
  { name: 'longest allowed', program: new Array<SockFilter>(4096).fill(RET_ALLOW) },
  {
    name: 'halfword packet load',
    program: [stmt(0x28, 0), RET_A],
    rejects: { index: 0, message: /opcode 0x28 is not allowed/ },
  },
  {
    name: 'byte packet load',
    program: [stmt(0x30, 0), RET_A],
    rejects: { index: 0, message: /opcode 0x30/ },
  },
  { name: 'indirect load', program: [stmt(0x40, 0), RET_A], rejects: { index: 0, message: /opcode 0x40/ } },
  { name: 'BPF_MSH', program: [stmt(0xb1, 0), RET_A], rejects: { index: 0, message: /opcode 0xb1/ } },
  { name: 'BPF_MOD', program: [LD_NR, stmt(0x94, 3), RET_A], rejects: { index: 1, message: /opcode 0x94/ } },
  { name: 'RET X', program: [stmt(0x0e, 0)], rejects: { index: 0, message: /opcode 0x0e/ } },
  {
    name: 'LDX W ABS (kernel-internal)',
    program: [stmt(0x21, 0), RET_A],
    rejects: { index: 0, message: /opcode 0x21/ },
  },
  {
    name: 'ancillary load',
    program: [stmt(0x20, 0xfffff000), RET_A],
    rejects: { index: 0, message: /offset 4294963200/ },
  },
  {
    name: 'unaligned load',
    program: [stmt(0x20, 2), RET_A],
    rejects: { index: 0, message: /4-byte aligned/ },
  },
  {
    name: 'load past seccomp_data',
    program: [stmt(0x20, 64), RET_A],
    rejects: { index: 0, message: /below 64/ },
  },
  { name: 'last word of seccomp_data', program: [stmt(0x20, 60), RET_A] },
  {
    name: 'division by constant 0',
    program: [LD_NR, stmt(0x34, 0), RET_A],
    rejects: { index: 1, message: /division by the constant 0/ },
  },
  {
    name: 'shift by 32',
    program: [LD_NR, stmt(0x64, 32), RET_A],
    rejects: { index: 1, message: /shift by 32/ },
  },
  { name: 'shift by 31', program: [LD_NR, stmt(0x74, 31), RET_A] },
  {
    name: 'scratch slot 16',
    program: [LD_NR, stmt(0x02, 16), RET_A],
    rejects: { index: 1, message: /slot 16 does not exist/ },
  },
  {
    name: 'JA past the end',
    program: [stmt(0x05, 1), RET_ALLOW],
    rejects: { index: 0, message: /jump offset 1 leaves/ },
  },
  {
    name: 'JA with huge k',
    program: [stmt(0x05, 0xffffffff), RET_ALLOW],
    rejects: { index: 0, message: /leaves the program/ },
  },
  {
    name: 'jt past the end',
    program: [LD_NR, jump(0x15, 0, 1, 0), RET_ALLOW],
    rejects: { index: 1, message: /jt 1, jf 0/ },
  },
  {
    name: 'jf past the end',
    program: [LD_NR, jump(0x15, 0, 0, 5), RET_ALLOW],
    rejects: { index: 1, message: /jf 5/ },
  },
  {
    name: 'no final return',
    program: [RET_ALLOW, LD_NR],
    rejects: { index: 1, message: /last instruction must be a return/ },
  },
  {
    name: 'memory read before any write',
    program: [stmt(0x60, 3), RET_A],
    rejects: { index: 0, message: /slot 3 before/ },
  },
  {
    name: 'memory written on one branch only',
    program: [LD_NR, jump(0x15, 1, 0, 1), stmt(0x02, 0), stmt(0x61, 0), RET_A],
    rejects: { index: 3, message: /slot 0 before/ },
  },
  {
    name: 'memory written before the branch',
    program: [LD_NR, stmt(0x02, 0), jump(0x15, 1, 0, 1), stmt(0x00, 1), stmt(0x60, 0), RET_A],
  },
  {
    // The kernel's linear pass lets the state before a RET flow into the next instruction: slot 0 is
    // written on the only path into instruction 5, yet the RET at 4 (reached without the store) spoils it.
    name: 'kernel quirk: state flows across a RET',
    program: [LD_NR, jump(0x15, 1, 0, 2), stmt(0x02, 0), stmt(0x05, 1), RET_ALLOW, stmt(0x60, 0), RET_A],
    rejects: { index: 5, message: /slot 0 before/ },
  },
];

test('validateProgram accepts and rejects each form, naming the instruction', () => {
  for (const c of CASES) {
    if (c.rejects === undefined) {
      assert.doesNotThrow(() => validateProgram(c.program), c.name);
      continue;
    }
    const { index, message } = c.rejects;
    assert.throws(
      () => validateProgram(c.program),
      (error: unknown) =>
        error instanceof InvalidFilterError &&
        error.index === index &&
        message.test(error.message) &&
        (index === undefined || error.message.startsWith(`instruction ${index}: `)),
      c.name,
    );
  }
});

test('the kernel of this machine accepts exactly the programs validateProgram accepts', () => {
  // The kernel cannot be handed an empty program through sock_fprog with a null filter portably; skip
  // only that one, whose verdict is covered above.
  const loadable = CASES.filter((c) => c.program.length > 0);
  loadable.forEach((c) => {
    const outcome = runProgram(c.program);
    const kernelRejected = outcome.kind === 'rejected';
    assert.equal(
      kernelRejected,
      c.rejects !== undefined,
      `${c.name}: kernel said ${JSON.stringify(outcome)}`,
    );
    if (kernelRejected) assert.equal(outcome.errno, 22, `${c.name}: EINVAL`);
  });
});
