/**
 * The exec gate (decisions checked with the BPF emulator), the launch plan's wire format, and the FFI
 * layer's errno and descriptor handling on this kernel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../../src/bpf/compiler.js';
import { emulate } from '../../src/bpf/emulator.js';
import { BPF_K, BPF_RET, stmt } from '../../src/bpf/insn.js';
import {
  errnoValue,
  getNoNewPrivs,
  isNonBlocking,
  nativeString,
  nativeStringArray,
  rawSyscall,
  readNativeWord,
} from '../../src/enforce/ffi.js';
import { planLandlock } from '../../src/enforce/landlock.js';
import { parseLaunchPlan, serializeLaunchPlan, type LaunchPlan } from '../../src/enforce/launch-plan.js';
import { execGate, gateProgram, RUN_FILTER_FLAGS } from '../../src/enforce/seccomp.js';
import { SECCOMP_RET } from '../../src/policy/action.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { AUDIT_ARCH, X32_SYSCALL_BIT, syscallNumber } from '../../src/syscalls/arch.js';

const EXECVE = syscallNumber('x86_64', 'execve') as number;
const ADDRESS = 0x7f12_3456_7890n;
const DENY = (SECCOMP_RET.ERRNO | 1) >>> 0;
const DENY_ALL = [stmt(BPF_RET | BPF_K, DENY)];

function decide(nr: number, arg0: bigint, arch = AUDIT_ARCH.x86_64): number {
  return emulate(gateProgram(DENY_ALL, 'x86_64', ADDRESS), { nr, arch, args: [arg0, 0n, 0n, 0n, 0n, 0n] });
}

test('the exec gate allows execve only with the exact path address on the native ABI', () => {
  assert.equal(decide(EXECVE, ADDRESS), SECCOMP_RET.ALLOW);
  assert.equal(decide(EXECVE, ADDRESS + 1n), DENY, 'another address');
  assert.equal(decide(EXECVE, ADDRESS ^ (1n << 44n)), DENY, 'same low word, other high word');
  assert.equal(decide(EXECVE, ADDRESS & 0xffffffffn), DENY, 'low word only');
  assert.equal(decide(EXECVE | X32_SYSCALL_BIT, ADDRESS), DENY, 'x32 execve number');
  assert.equal(decide(EXECVE, ADDRESS, AUDIT_ARCH.i386), DENY, 'another AUDIT_ARCH');
  assert.equal(decide(syscallNumber('x86_64', 'execveat') as number, ADDRESS), DENY, 'execveat is not gated');
  assert.equal(decide(0, ADDRESS), DENY, 'other syscalls fall through to the policy');
  assert.equal(execGate('x86_64', ADDRESS).length, 9);
});

test('the gate in front of a compiled policy leaves its decisions alone', () => {
  const policy: ResolvedPolicy = {
    name: 'gate',
    architectures: ['x86_64'],
    defaultAction: { kind: 'allow' },
    unknownAction: { kind: 'allow' },
    badArchAction: { kind: 'kill_process' },
    rules: [
      {
        syscalls: ['execve'],
        selectors: ['execve'],
        action: { kind: 'errno', errno: 1 },
        conditions: [],
        reason: 'no exec',
        tier: 'required',
        layer: 'gate',
        location: { file: 'gate.yaml', line: 1, column: 1 },
      },
    ],
    layers: [{ name: 'gate', file: 'gate.yaml' }],
  };
  const program = gateProgram(compile(policy, { arch: 'x86_64' }).program, 'x86_64', ADDRESS);
  const run = (nr: number, arg0: bigint, arch = AUDIT_ARCH.x86_64): number =>
    emulate(program, { nr, arch, args: [arg0, 0n, 0n, 0n, 0n, 0n] });
  assert.equal(run(EXECVE, ADDRESS), SECCOMP_RET.ALLOW);
  assert.equal(run(EXECVE, 0x1000n), DENY);
  assert.equal(run(39, 0n), SECCOMP_RET.ALLOW);
  assert.equal(run(39, 0n, AUDIT_ARCH.i386), SECCOMP_RET.KILL_PROCESS);
  assert.throws(() => gateProgram(new Array(4090).fill(DENY_ALL[0]), 'x86_64', ADDRESS), /at most 4096/);
});

test('a launch plan survives the wire; a malformed one is refused', () => {
  const plan: LaunchPlan = {
    executable: '/usr/bin/env',
    argv: ['env', '-i'],
    env: ['A=1'],
    program: DENY_ALL,
    filterFlags: RUN_FILTER_FLAGS,
    landlock: planLandlock(
      { read: ['/usr'], write: [], execute: ['/usr'] },
      { bindTcp: [], connectTcp: [443] },
      7,
    ),
  };
  const parsed = parseLaunchPlan(serializeLaunchPlan(plan));
  assert.deepEqual(
    { ...parsed, landlock: { ...parsed.landlock, gaps: [] } },
    { ...plan, landlock: { ...plan.landlock, gaps: [] } },
  );
  assert.throws(
    () => parseLaunchPlan('{"executable":"/bin/sh","argv":[],"env":[],"program":"","filterFlags":3}'),
    /empty argv/,
  );
  assert.throws(
    () => parseLaunchPlan('{"executable":"/bin/sh","argv":["sh"],"env":[],"program":"AAAA","filterFlags":3}'),
    /8-byte/,
  );
  assert.throws(() => parseLaunchPlan('{"executable":1}'), /malformed launch plan/);
});

test('FFI: errno is read right after the call; native strings are laid out as C expects', () => {
  const bad = rawSyscall(syscallNumber('x86_64', 'close') as number, [-1]);
  assert.deepEqual(bad, { value: -1, errno: errnoValue('EBADF') });
  const ok = rawSyscall(syscallNumber('x86_64', 'getpid') as number);
  assert.deepEqual(ok, { value: process.pid, errno: 0 });
  const argv = nativeStringArray(['a', 'bc']);
  assert.notEqual(readNativeWord(argv.address), 0n);
  assert.equal(readNativeWord(argv.address + 16n), 0n, 'NULL-terminated');
  assert.throws(() => nativeString('a\0b'), /cannot contain NUL/);
  assert.equal(getNoNewPrivs(), false, 'the test process itself is never confined');
  assert.equal(typeof isNonBlocking(1), 'boolean');
});
