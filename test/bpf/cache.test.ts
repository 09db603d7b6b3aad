import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheableSyscalls, isCacheableAllow, mayAllow } from '../../src/bpf/cache.js';
import { prepareProgram } from '../../src/bpf/emulator.js';
import { jump, stmt } from '../../src/bpf/insn.js';
import { AUDIT_ARCH, syscallNumber, X32_SYSCALL_BIT } from '../../src/syscalls/arch.js';
import { libseccompProgram } from './oracles.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const LD_NR = stmt(0x20, 0);
const LD_ARCH = stmt(0x20, 4);
const X86_64 = AUDIT_ARCH.x86_64;

const nr = (name: string): number => syscallNumber('x86_64', name) as number;

test('syscalls allowed on a path of nr/arch loads and K jumps are cacheable', () => {
  const program = [
    LD_ARCH,
    jump(0x15, X86_64, 1, 0),
    stmt(0x06, 0x80000000),
    LD_NR,
    jump(0x15, nr('read'), 2, 0),
    jump(0x15, nr('write'), 1, 0),
    stmt(0x06, EPERM),
    stmt(0x06, ALLOW),
  ];
  assert.equal(isCacheableAllow(program, X86_64, nr('read')), true);
  assert.equal(isCacheableAllow(program, X86_64, nr('write')), true);
  assert.equal(isCacheableAllow(program, X86_64, nr('close')), false);
  assert.equal(isCacheableAllow(program, AUDIT_ARCH.i386, 3), false, 'wrong arch reaches KILL');
  assert.equal(
    isCacheableAllow(prepareProgram(program), X86_64, nr('read')),
    true,
    'a prepared program works too',
  );
  const report = cacheableSyscalls(program, 'x86_64');
  assert.deepEqual(report.cacheable, ['read', 'write']);
  assert.deepEqual(report.allowedButNotCacheable, []);
  assert.deepEqual(report.kernelExempt, ['uretprobe', 'uprobe']);
});

test('a path that loads an argument is not cacheable but is reported as allowed', () => {
  // write: allowed only if args[0] == 1.
  const program = [
    LD_NR,
    jump(0x15, nr('write'), 0, 3),
    stmt(0x20, 16),
    jump(0x15, 1, 0, 1),
    stmt(0x06, ALLOW),
    stmt(0x06, EPERM),
  ];
  assert.equal(isCacheableAllow(program, X86_64, nr('write')), false);
  assert.equal(mayAllow(program, X86_64, nr('write')), true);
  assert.equal(mayAllow(program, X86_64, nr('read')), false);
  const report = cacheableSyscalls(program, 'x86_64');
  assert.deepEqual(report.cacheable, []);
  assert.deepEqual(report.allowedButNotCacheable, ['write']);
});

test('ALU AND K, JA and JSET are followed; other instructions stop the walk', () => {
  const masked = [LD_NR, stmt(0x54, 0xff), jump(0x15, 0, 0, 1), stmt(0x06, ALLOW), stmt(0x06, EPERM)];
  assert.equal(isCacheableAllow(masked, X86_64, 0x100), true, '0x100 & 0xff == 0');
  assert.equal(isCacheableAllow(masked, X86_64, 0x101), false);

  const viaJa = [
    LD_NR,
    stmt(0x05, 1),
    stmt(0x06, EPERM),
    jump(0x45, 0x2, 0, 1),
    stmt(0x06, ALLOW),
    stmt(0x06, EPERM),
  ];
  assert.equal(isCacheableAllow(viaJa, X86_64, 2), true);
  assert.equal(isCacheableAllow(viaJa, X86_64, 1), false);

  const orK = [LD_NR, stmt(0x44, 0), jump(0x15, 0, 0, 1), stmt(0x06, ALLOW), stmt(0x06, EPERM)];
  assert.equal(isCacheableAllow(orK, X86_64, 0), false, 'ALU OR is not in the kernel walk');
  assert.equal(mayAllow(orK, X86_64, 0), true);

  const retA = [stmt(0x00, ALLOW), stmt(0x16, 0)];
  assert.equal(isCacheableAllow(retA, X86_64, 0), false, 'RET A is not constant to the kernel');
  assert.equal(mayAllow(retA, X86_64, 0), true);

  const jumpX = [LD_NR, stmt(0x01, 0), jump(0x1d, 0, 0, 1), stmt(0x06, ALLOW), stmt(0x06, EPERM)];
  assert.equal(isCacheableAllow(jumpX, X86_64, 0), false, 'jumps on X stop the walk');

  const loadsIp = [stmt(0x20, 8), stmt(0x06, ALLOW)];
  assert.equal(isCacheableAllow(loadsIp, X86_64, 0), false, 'the instruction pointer is not constant');
});

test('only RET of exactly SECCOMP_RET_ALLOW is cached', () => {
  const allowWithData = [stmt(0x06, ALLOW | 1)];
  assert.equal(isCacheableAllow(allowWithData, X86_64, 0), false);
  assert.equal(mayAllow(allowWithData, X86_64, 0), true);
  assert.equal(isCacheableAllow([stmt(0x06, 0x7ffc0000)], X86_64, 0), false, 'LOG is not ALLOW');
  assert.equal(mayAllow([stmt(0x06, 0x7ffc0000)], X86_64, 0), false);
});

test('x32 is never cached; arm private syscalls have no cache slot', () => {
  const allowAll = [stmt(0x06, ALLOW)];
  const x32 = cacheableSyscalls(allowAll, 'x32');
  assert.deepEqual(x32.cacheable, []);
  assert.ok(x32.allowedButNotCacheable.includes('read'));
  assert.equal(syscallNumber('x32', 'read'), X32_SYSCALL_BIT);

  const arm = cacheableSyscalls(allowAll, 'arm');
  assert.ok(arm.cacheable.includes('read'));
  assert.ok(!arm.cacheable.includes('set_tls'));
  assert.ok(arm.allowedButNotCacheable.includes('set_tls'));

  const i386 = cacheableSyscalls(allowAll, 'i386');
  assert.deepEqual(i386.kernelExempt, [], 'the uprobe exemption is for the native x86_64 ABI only');
});

test('a libseccomp filter: unconditional allows are cacheable, argument checks are not', () => {
  const program = libseccompProgram(
    { kind: 'errno', errno: 1 },
    ['x86_64'],
    [
      { syscall: 'read', action: { kind: 'allow' }, conditions: [] },
      { syscall: 'write', action: { kind: 'allow' }, conditions: [{ index: 0, op: 'eq', value: 1n }] },
    ],
  );
  const report = cacheableSyscalls(program, 'x86_64');
  assert.deepEqual(report.cacheable, ['read']);
  assert.deepEqual(report.allowedButNotCacheable, ['write']);
  assert.deepEqual(cacheableSyscalls(program, 'i386').cacheable, [], 'arch check fails for i386');
});
