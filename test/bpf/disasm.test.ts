import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditArchName, disassemble, disassembleLines, formatRet } from '../../src/bpf/disasm.js';
import { jump, stmt } from '../../src/bpf/insn.js';
import { AUDIT_ARCH } from '../../src/syscalls/arch.js';
import { libseccompProgram } from './oracles.js';

const statements = (lines: readonly string[]): string[] => lines.map((line) => line.slice(34));

test('a two-arch filter: header, raw fields, arch names and per-ABI syscall names', () => {
  const program = [
    stmt(0x20, 4),
    jump(0x15, AUDIT_ARCH.x86_64, 0, 5),
    stmt(0x20, 0),
    jump(0x35, 0x40000000, 0, 1),
    jump(0x15, 0x40000000, 7, 8), // x32 read
    jump(0x15, 0, 6, 0), // read
    jump(0x15, 59, 5, 6), // execve
    jump(0x15, AUDIT_ARCH.i386, 0, 5),
    stmt(0x20, 0),
    jump(0x15, 3, 2, 0), // i386 read
    jump(0x45, 0x80, 1, 0),
    stmt(0x06, 0x00050001),
    stmt(0x06, 0x7fff0000),
    stmt(0x06, 0x80000000),
  ];
  const text = disassemble(program);
  const lines = text.split('\n');
  assert.equal(lines[0], ' line  CODE  JT   JF      K');
  assert.equal(lines[1], '=================================');
  assert.equal(lines[2], ' 0000: 0x20 0x00 0x00 0x00000004  A = arch');
  assert.equal(lines[3], ' 0001: 0x15 0x00 0x05 0xc000003e  if (A != ARCH_X86_64) goto 0007');
  assert.deepEqual(statements(lines.slice(4, 16)), [
    'A = sys_number',
    'if (A < 0x40000000) goto 0005',
    'if (A == read) goto 0012 else goto 0013',
    'if (A == read) goto 0012',
    'if (A == execve) goto 0012 else goto 0013',
    'if (A != ARCH_I386) goto 0013',
    'A = sys_number',
    'if (A == read) goto 0012',
    'if (A & 0x80) goto 0012',
    'return ERRNO(1)',
    'return ALLOW',
    'return KILL_PROCESS',
  ]);
  assert.equal(lines.at(-1), '', 'the listing ends with a newline');
});

test('syscall names fall back to --arch where the filter has no arch check', () => {
  const program = [stmt(0x20, 0), jump(0x15, 59, 0, 1), stmt(0x06, 0), stmt(0x06, 0x7fff0000)];
  assert.equal(statements(disassembleLines(program))[1], 'if (A != 0x3b) goto 0003');
  assert.equal(statements(disassembleLines(program, { arch: 'x86_64' }))[1], 'if (A != execve) goto 0003');
  assert.equal(statements(disassembleLines(program, { arch: 'aarch64' }))[1], 'if (A != pipe2) goto 0003');
  assert.equal(
    statements(
      disassembleLines([stmt(0x20, 0), jump(0x15, 9999, 0, 0), stmt(0x06, 0)], { arch: 'x86_64' }),
    )[1],
    'if (A == 0x270f) goto 0002',
  );
});

test('argument and instruction pointer words per byte order', () => {
  const program = [16, 20, 8, 12, 56, 60].map((offset) => stmt(0x20, offset));
  program.push(stmt(0x06, 0));
  assert.deepEqual(statements(disassembleLines(program)).slice(0, 6), [
    'A = args[0]',
    'A = args[0] >> 32',
    'A = instruction_pointer',
    'A = instruction_pointer >> 32',
    'A = args[5]',
    'A = args[5] >> 32',
  ]);
  assert.deepEqual(statements(disassembleLines(program, { arch: 's390x' })).slice(0, 2), [
    'A = args[0] >> 32',
    'A = args[0]',
  ]);
  assert.deepEqual(statements(disassembleLines(program, { bigEndian: true })).slice(0, 2), [
    'A = args[0] >> 32',
    'A = args[0]',
  ]);
});

test('ALU, memory, register moves, X operands and returns', () => {
  const program = [
    stmt(0x00, 0x10),
    stmt(0x01, 3),
    stmt(0x80, 0),
    stmt(0x04, 1),
    stmt(0x1c, 0),
    stmt(0x54, 0xff),
    stmt(0x64, 4),
    stmt(0x7c, 0),
    stmt(0xa4, 1),
    stmt(0x84, 0),
    stmt(0x02, 0),
    stmt(0x03, 15),
    stmt(0x60, 0),
    stmt(0x61, 15),
    stmt(0x07, 0),
    stmt(0x87, 0),
    stmt(0x05, 0),
    jump(0x2d, 0, 0, 1),
    jump(0x3d, 0, 1, 0),
    stmt(0x16, 0),
    stmt(0x06, 0x00030005),
  ];
  assert.deepEqual(statements(disassembleLines(program)), [
    'A = 0x10',
    'X = 0x3',
    'A = sizeof(seccomp_data)',
    'A += 0x1',
    'A -= X',
    'A &= 0xff',
    'A <<= 0x4',
    'A >>= X',
    'A ^= 0x1',
    'A = -A',
    'mem[0] = A',
    'mem[15] = X',
    'A = mem[0]',
    'X = mem[15]',
    'X = A',
    'A = X',
    'goto 0017',
    'if (A <= X) goto 0019',
    'if (A >= X) goto 0020',
    'return A',
    'return TRAP(5)',
  ]);
});

test('return values name every action; unknown actions read as the kill they are', () => {
  assert.equal(formatRet(0x7fff0000), 'ALLOW');
  assert.equal(formatRet(0x0005000d), 'ERRNO(13)');
  assert.equal(formatRet(0x80000000), 'KILL_PROCESS');
  assert.equal(formatRet(0), 'KILL_THREAD');
  assert.equal(formatRet(0x00030000), 'TRAP');
  assert.equal(formatRet(0x7ff00007), 'TRACE(7)');
  assert.equal(formatRet(0x7ffc0000), 'LOG');
  assert.equal(formatRet(0x7fc00000), 'USER_NOTIF');
  assert.equal(formatRet(0x00010000), '0x00010000 (unknown action: KILL_PROCESS)');
  assert.equal(auditArchName(AUDIT_ARCH.aarch64), 'ARCH_AARCH64');
  assert.equal(auditArchName(0x1234), undefined);
});

test('an invalid program is refused, naming the instruction', () => {
  assert.throws(() => disassemble([stmt(0x28, 0), stmt(0x06, 0)]), /instruction 0: opcode 0x28/);
});

test("libseccomp's multi-arch filter lists with names for each ABI", () => {
  const program = libseccompProgram(
    { kind: 'kill_process' },
    ['x86_64', 'i386', 'x32'],
    [
      { syscall: 'openat', action: { kind: 'allow' }, conditions: [] },
      { syscall: 'ptrace', action: { kind: 'errno', errno: 1 }, conditions: [] },
      { syscall: 'mmap', action: { kind: 'allow' }, conditions: [{ index: 2, op: 'le', value: 3n }] },
    ],
  );
  const text = disassemble(program);
  assert.match(text, /if \(A (==|!=) ARCH_X86_64\)/);
  assert.match(text, /if \(A (==|!=) ARCH_I386\)/);
  const lines = text.split('\n');
  const named = (name: string): number =>
    lines.filter((line) => new RegExp(`A (==|!=) ${name}\\)`).test(line)).length;
  assert.ok(named('openat') >= 3, `openat named for x86_64, x32 and i386:\n${text}`);
  assert.ok(named('ptrace') >= 3, text);
  assert.match(text, /A = args\[2\] >> 32/);
  assert.match(text, /return ERRNO\(1\)/);
  assert.doesNotMatch(text, /\?\?\?/);
});
