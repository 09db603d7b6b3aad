import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeProgram, jump, stmt } from '../../src/bpf/insn.js';
import { AUDIT_ARCH } from '../../src/syscalls/arch.js';
import { libseccompProgram } from '../bpf/oracles.js';
import { sysfenceInProcess } from '../helpers/cli.js';
import { tempDirForTest } from '../helpers/temp.js';

const sysfence = sysfenceInProcess;

const dir = tempDirForTest('sysfence-emu-');

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

// libseccomp's filter: default ERRNO(EPERM); read allowed; write allowed for fd 1; ptrace kills; openat
// with (flags & 3) == 1 is EACCES; i386 too.
const LIBSECCOMP = file(
  'libseccomp.bpf',
  encodeProgram(
    libseccompProgram(
      { kind: 'errno', errno: 1 },
      ['x86_64', 'i386'],
      [
        { syscall: 'read', action: { kind: 'allow' }, conditions: [] },
        { syscall: 'write', action: { kind: 'allow' }, conditions: [{ index: 0, op: 'eq', value: 1n }] },
        { syscall: 'ptrace', action: { kind: 'kill_process' }, conditions: [] },
        {
          syscall: 'openat',
          action: { kind: 'errno', errno: 13 },
          conditions: [{ index: 2, op: 'masked_eq', mask: 3n, value: 1n }],
        },
      ],
    ),
  ),
);

test('disasm lists a libseccomp filter with names', async () => {
  const run = await sysfence('disasm', LIBSECCOMP, '--arch', 'x86_64');
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^ line {2}CODE {2}JT {3}JF {6}K\n={33}\n 0000: 0x20 0x00 0x00 0x00000004 {2}A = arch\n/,
  );
  assert.match(run.stdout, /if \(A == read\) goto \d{4}/);
  assert.match(run.stdout, /A = args\[2\]/);
  assert.match(run.stdout, /return ERRNO\(13\)/);
});

test('disasm refuses a filter the kernel would refuse, naming file and instruction (exit 2)', async () => {
  const bad = file('bad.bpf', encodeProgram([stmt(0x20, 0), stmt(0x28, 0), stmt(0x06, 0)]));
  const run = await sysfence('disasm', bad);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /bad\.bpf: not a valid seccomp filter: instruction 1: opcode 0x28 is not allowed/);

  const torn = await sysfence('disasm', file('torn.bpf', new Uint8Array(12)));
  assert.equal(torn.code, 2);
  assert.match(torn.stderr, /8-byte instructions; got 12 bytes/);

  const missing = await sysfence('disasm', join(dir, 'nope.bpf'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read filter .*nope\.bpf/);
});

test('disasm --big-endian reads a big-endian file', async () => {
  const program = [stmt(0x20, 16), jump(0x15, 7, 0, 1), stmt(0x06, 0x7fff0000), stmt(0x06, 0)];
  const path = file('be.bpf', encodeProgram(program, true));
  const run = await sysfence('disasm', path, '--big-endian');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /0x20 0x00 0x00 0x00000010 {2}A = args\[0\] >> 32/);
  assert.equal((await sysfence('disasm', path)).code, 2, 'read as little-endian it is not a valid filter');
});

test('emu prints the decision for names, numbers and arguments', async () => {
  const decide = async (...args: string[]): Promise<string> => {
    const run = await sysfence('emu', LIBSECCOMP, ...args);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout;
  };
  assert.equal(await decide('--arch', 'x86_64', 'read'), 'ALLOW\n');
  assert.equal(await decide('--arch', 'x86_64', '0'), 'ALLOW\n');
  assert.equal(await decide('--arch', 'x86_64', 'write', '1'), 'ALLOW\n');
  assert.equal(await decide('--arch', 'x86_64', 'write', '2'), 'ERRNO(1) (EPERM)\n');
  assert.equal(
    await decide('--arch', 'x86_64', 'write', '0x100000001'),
    'ERRNO(1) (EPERM)\n',
    'high word counts on x86_64',
  );
  assert.equal(await decide('--arch', 'x86_64', 'ptrace'), 'KILL_PROCESS\n');
  assert.equal(await decide('--arch', 'x86_64', 'openat', '--', '-100', '0', '0x41'), 'ERRNO(13) (EACCES)\n');
  assert.equal(
    await decide('--arch', 'x86_64', 'openat', '--', '-100', '0', '-1'),
    'ERRNO(1) (EPERM)\n',
    '-1 & 3 == 3',
  );
  assert.equal(await decide('--arch', 'i386', 'write', '1'), 'ALLOW\n');
  assert.equal(await decide('--arch', 'i386', 'ptrace'), 'KILL_PROCESS\n');
  assert.equal(
    await decide('--arch', 'x32', 'read'),
    'KILL_THREAD\n',
    'x32 is not in the filter: bad-arch action',
  );
  assert.equal(await decide('--arch', 'aarch64', 'read'), 'KILL_THREAD\n');
});

test('emu --trace lists the executed instructions before the decision', async () => {
  const run = await sysfence('emu', LIBSECCOMP, '--arch', 'x86_64', 'write', '1', '--trace');
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines[0], ' line  CODE  JT   JF      K');
  assert.equal(lines[2], ' 0000: 0x20 0x00 0x00 0x00000004  A = arch');
  assert.ok(
    lines.some((line) => line.endsWith('A = args[0]')),
    run.stdout,
  );
  assert.match(lines.at(-2) ?? '', /return ALLOW$/);
  assert.equal(lines.at(-1), 'ALLOW');
});

test('emu sets seccomp_data.arch from --arch and reads x32 numbers with their bit', async () => {
  // return A = arch for any syscall whose number has the x32 bit, else return nr.
  const echo = [
    stmt(0x20, 0),
    jump(0x45, 0x40000000, 0, 2),
    stmt(0x20, 4),
    stmt(0x16, 0),
    stmt(0x00, 0x00050000),
    stmt(0x16, 0),
  ];
  const path = file('echo.bpf', encodeProgram(echo));
  const x32 = await sysfence('emu', path, '--arch', 'x32', 'read');
  assert.equal(x32.stdout, `0x${AUDIT_ARCH.x32.toString(16)} (unknown action: KILL_PROCESS)\n`);
  assert.equal((await sysfence('emu', path, '--arch', 'x86_64', 'read')).stdout, 'ERRNO(0)\n');
});

test('emu usage errors exit 2 with a clear message', async () => {
  const unknown = await sysfence('emu', LIBSECCOMP, '--arch', 'x86_64', 'readd');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown syscall 'readd' \(did you mean 'read'\?\)/);

  const absent = await sysfence('emu', LIBSECCOMP, '--arch', 'aarch64', 'open');
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /syscall 'open' does not exist on aarch64/);

  const tooMany = await sysfence(
    'emu',
    LIBSECCOMP,
    '--arch',
    'x86_64',
    'read',
    '1',
    '2',
    '3',
    '4',
    '5',
    '6',
    '7',
  );
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.stderr, /at most 6 syscall arguments/);

  const badArg = await sysfence('emu', LIBSECCOMP, '--arch', 'x86_64', 'read', '0x1ffffffffffffffff');
  assert.equal(badArg.code, 2);
  assert.match(badArg.stderr, /ARG0: .*does not fit in 64 bits/);

  const badArch = await sysfence('emu', LIBSECCOMP, '--arch', 'vax', 'read');
  assert.equal(badArch.code, 2);
  assert.match(badArch.stderr, /unknown architecture 'vax'/);

  const noSyscall = await sysfence('emu', LIBSECCOMP);
  assert.equal(noSyscall.code, 2);
  assert.match(noSyscall.stderr, /missing SYSCALL/);
});
