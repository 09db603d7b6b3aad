/**
 * Pins the libseccomp 2.5.4 behaviours the differential tests and the benchmark rely on (documented in
 * bench/peers/libseccomp.ts), by running the filters the peer exports through the emulator, and checks
 * the IR → libseccomp converter: what it carries, and that it refuses what libseccomp cannot express.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulate } from '../../src/bpf/emulator.js';
import { actionToRet, type Action } from '../../src/policy/action.js';
import { AUDIT_ARCH, syscallEntries, syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import {
  InexpressibleForLibseccomp,
  libseccompCompile,
  libseccompUnknownNames,
  specFromPolicy,
  type LibseccompSpec,
  type PeerRule,
} from '../../bench/peers/libseccomp.js';
import { I386_IPC_NR, I386_SOCKETCALL_NR, TOO_NEW_FOR_LIBSECCOMP_2_5_4 } from './known-differences.js';
import { cond, policyOf, requireLibseccomp, rule } from './peer.js';

const ALLOW: Action = { kind: 'allow' };
const EPERM: Action = { kind: 'errno', errno: 1 };
const EACCES: Action = { kind: 'errno', errno: 13 };
const KILL_THREAD: Action = { kind: 'kill_thread' };
const X86_64 = AUDIT_ARCH.x86_64;
const I386 = AUDIT_ARCH.i386;

/** Compiles with libseccomp and returns a decision function over (auditArch, nr, args). */
function peerFilter(
  spec: Partial<LibseccompSpec> & { rules: readonly PeerRule[] },
): (arch: number, nr: number, args?: bigint[]) => number {
  const { program } = libseccompCompile({ defaultAction: EPERM, arches: ['x86_64'], optimize: 2, ...spec });
  return (arch, nr, args = []) => emulate(program, { nr, arch, args });
}

function nr(arch: Arch, name: string): number {
  const value = syscallNumber(arch, name);
  if (value === undefined) throw new Error(`${name} has no number on ${arch}`);
  return value;
}

test('libseccomp peer is installed (/usr/bin/python3 with python3-seccomp)', () => {
  requireLibseccomp();
});

test('x86_64 without x32: x32 numbers get the bad-arch action, nr -1 the default action', () => {
  requireLibseccomp();
  const decide = peerFilter({ rules: [{ syscall: 'read', action: ALLOW, conditions: [] }] });
  assert.equal(decide(X86_64, 0), actionToRet(ALLOW));
  assert.equal(decide(X86_64, 0x40000000), actionToRet(KILL_THREAD), 'x32 read with x32 not listed');
  assert.equal(decide(X86_64, 0x7fffffff), actionToRet(KILL_THREAD));
  assert.equal(decide(X86_64, 0xffffffff), actionToRet(EPERM), 'nr -1 is not treated as an x32 number');
  assert.equal(decide(X86_64, 0x3fffffff), actionToRet(EPERM), 'unassigned x86_64 numbers get the default');
  assert.equal(
    decide(AUDIT_ARCH.aarch64, 0),
    actionToRet(KILL_THREAD),
    "libseccomp's default bad-arch action is kill_thread",
  );
});

test('x86_64 with x32: one section for both, no x32-bit check, unmatched numbers get the default', () => {
  requireLibseccomp();
  const decide = peerFilter({
    arches: ['x86_64', 'x32'],
    rules: [{ syscall: 'read', action: ALLOW, conditions: [] }],
  });
  assert.equal(decide(X86_64, 0), actionToRet(ALLOW));
  assert.equal(decide(X86_64, 0x40000000), actionToRet(ALLOW), 'x32 read');
  assert.equal(decide(X86_64, 0x40000000 + 600), actionToRet(EPERM));
  assert.equal(decide(X86_64, 0xffffffff), actionToRet(EPERM));
});

test('i386: a socket-family rule also allows socketcall(SYS_SOCKET) and drops its own conditions there', () => {
  requireLibseccomp();
  const decide = peerFilter({
    arches: ['i386'],
    rules: [
      { syscall: 'socket', action: ALLOW, conditions: [{ index: 0, op: 'eq', value: 2n }] },
      { syscall: 'shmget', action: EACCES, conditions: [] },
    ],
  });
  assert.equal(decide(I386, nr('i386', 'socket'), [2n]), actionToRet(ALLOW));
  assert.equal(decide(I386, nr('i386', 'socket'), [10n]), actionToRet(EPERM));
  const SYS_SOCKET = 1n;
  assert.equal(
    decide(I386, I386_SOCKETCALL_NR, [SYS_SOCKET]),
    actionToRet(ALLOW),
    'socketcall(SYS_SOCKET, ...) whatever the domain',
  );
  assert.equal(decide(I386, I386_SOCKETCALL_NR, [2n]), actionToRet(EPERM), 'socketcall(SYS_BIND)');
  const SHMGET = 23n;
  assert.equal(decide(I386, I386_IPC_NR, [SHMGET]), actionToRet(EACCES), 'ipc(SHMGET)');
});

test('32-bit ABIs: only the low word is compared, and a 64-bit constant is truncated', () => {
  requireLibseccomp();
  const decide = peerFilter({
    arches: ['x86_64', 'i386'],
    rules: [{ syscall: 'read', action: ALLOW, conditions: [{ index: 0, op: 'eq', value: 0x1_0000_0003n }] }],
  });
  assert.equal(decide(X86_64, 0, [3n]), actionToRet(EPERM));
  assert.equal(decide(X86_64, 0, [0x1_0000_0003n]), actionToRet(ALLOW));
  assert.equal(decide(I386, nr('i386', 'read'), [3n]), actionToRet(ALLOW), 'eq 0x100000003 became eq 3');
  assert.equal(
    decide(I386, nr('i386', 'read'), [0xffff_0000_0003n]),
    actionToRet(ALLOW),
    'upper word ignored',
  );
});

test('x32: libseccomp compares only the low argument word there too', () => {
  requireLibseccomp();
  const decide = peerFilter({
    arches: ['x86_64', 'x32'],
    rules: [{ syscall: 'read', action: ALLOW, conditions: [{ index: 0, op: 'eq', value: 3n }] }],
  });
  assert.equal(decide(X86_64, 0, [0x1_0000_0003n]), actionToRet(EPERM), 'x86_64 compares both words');
  assert.equal(
    decide(X86_64, 0x40000000, [0x1_0000_0003n]),
    actionToRet(ALLOW),
    'x32 ignores the upper word',
  );
});

test('overlapping rules on one syscall are merged, not first-match', () => {
  requireLibseccomp();
  const conditionalFirst = peerFilter({
    rules: [
      { syscall: 'read', action: EACCES, conditions: [{ index: 0, op: 'eq', value: 3n }] },
      { syscall: 'read', action: ALLOW, conditions: [] },
    ],
  });
  assert.equal(
    conditionalFirst(X86_64, 0, [3n]),
    actionToRet(ALLOW),
    'the unconditional rule absorbs the earlier conditional one',
  );
  const ranges = peerFilter({
    rules: [
      { syscall: 'read', action: ALLOW, conditions: [{ index: 0, op: 'gt', value: 3n }] },
      { syscall: 'read', action: EACCES, conditions: [{ index: 0, op: 'lt', value: 10n }] },
    ],
  });
  assert.equal(
    ranges(X86_64, 0, [5n]),
    actionToRet(EACCES),
    'overlap resolved by tree order, not rule order',
  );
  assert.throws(
    () =>
      libseccompCompile({
        defaultAction: EPERM,
        arches: ['x86_64'],
        optimize: 2,
        rules: [
          { syscall: 'read', action: ALLOW, conditions: [{ index: 0, op: 'eq', value: 3n }] },
          { syscall: 'read', action: EACCES, conditions: [{ index: 0, op: 'eq', value: 3n }] },
        ],
      }),
    /refused the rule/,
    'same conditions, different action: EEXIST',
  );
});

test('rules with the default action are skipped, not refused', () => {
  requireLibseccomp();
  const result = libseccompCompile({
    defaultAction: EPERM,
    arches: ['x86_64'],
    optimize: 1,
    rules: [{ syscall: 'read', action: EPERM, conditions: [] }],
  });
  assert.deepEqual(result.skippedRules, [{ rule: 0, why: 'action equals the default action' }]);
});

test('the syscalls libseccomp 2.5.4 cannot name are exactly the pinned too-new lists', () => {
  requireLibseccomp();
  const abis = ['x86_64', 'x32', 'i386'] as const;
  const names = [...new Set(abis.flatMap((abi) => syscallEntries(abi).map(([name]) => name)))];
  const unknown = libseccompUnknownNames(abis, names);
  for (const abi of abis) {
    const tableNames = new Set(syscallEntries(abi).map(([name]) => name));
    const unknownHere = (unknown.get(abi) ?? []).filter((name) => tableNames.has(name)).sort();
    assert.deepEqual(
      unknownHere,
      [...TOO_NEW_FOR_LIBSECCOMP_2_5_4[abi]].sort(),
      `${abi}: update TOO_NEW_FOR_LIBSECCOMP_2_5_4`,
    );
  }
});

test('unknown names: refused by default, dropped and reported with unknownSyscalls: skip', () => {
  requireLibseccomp();
  const spec: LibseccompSpec = {
    defaultAction: EPERM,
    arches: ['x86_64'],
    optimize: 2,
    rules: [{ syscall: 'listns', action: ALLOW, conditions: [] }],
  };
  assert.throws(() => libseccompCompile(spec), /does not know 'listns'/);
  const skipped = libseccompCompile({ ...spec, unknownSyscalls: 'skip' });
  assert.deepEqual(skipped.unknownSyscalls, ['listns']);
  assert.equal(
    emulate(skipped.program, { nr: nr('x86_64', 'listns'), arch: X86_64, args: [] }),
    actionToRet(EPERM),
  );
});

test('specFromPolicy carries 64-bit rules and turns width-32 eq into a low-word masked_eq', () => {
  const policy = policyOf({
    defaultAction: EPERM,
    rules: [
      rule(['read', 'write'], ALLOW),
      rule(['personality'], ALLOW, [{ index: 0, op: 'eq', value: 0xffffffffn, width: 32 }]),
      rule(['openat'], EACCES, [cond(2, 'masked_eq', 1n, 3n)]),
    ],
  });
  const spec = specFromPolicy(policy, { optimize: 2 });
  assert.deepEqual(spec.arches, ['x86_64', 'x32', 'i386']);
  assert.deepEqual(
    spec.rules.map((peer) => [peer.syscall, peer.conditions]),
    [
      ['read', []],
      ['write', []],
      ['personality', [{ index: 0, op: 'masked_eq', value: 0xffffffffn, mask: 0xffffffffn }]],
      ['openat', [{ index: 2, op: 'masked_eq', value: 1n, mask: 3n }]],
    ],
  );
  const { program } = libseccompCompile(spec);
  const personality = nr('x86_64', 'personality');
  assert.equal(
    emulate(program, { nr: personality, arch: X86_64, args: [0x5_ffff_ffffn] }),
    actionToRet(ALLOW),
  );
});

test('specFromPolicy drops rules shadowed by an earlier unconditional rule', () => {
  const policy = policyOf({
    defaultAction: EPERM,
    rules: [rule(['read'], ALLOW), rule(['read'], EACCES, [cond(0, 'eq', 3n)])],
  });
  assert.deepEqual(
    specFromPolicy(policy, { optimize: 1 }).rules.map((peer) => peer.action),
    [ALLOW],
  );
});

test('specFromPolicy refuses, naming each rule, what libseccomp would decide differently', () => {
  const policy = policyOf({
    defaultAction: EPERM,
    unknownAction: { kind: 'errno', errno: 38 },
    rules: [
      rule(['read'], EACCES, [cond(0, 'eq', 3n)]),
      rule(['read'], ALLOW),
      rule(['write'], ALLOW, [cond(0, 'gt', 3n)]),
      rule(['write'], EACCES, [cond(0, 'lt', 10n)]),
      rule(['close'], ALLOW, [{ index: 0, op: 'lt', value: 5n, width: 32 }]),
      rule(['dup'], ALLOW, [cond(0, 'ge', 1n), cond(0, 'le', 9n)]),
      rule(['getpid'], { kind: 'trap', data: 7 }),
    ],
  });
  assert.throws(
    () => specFromPolicy(policy, { optimize: 2 }),
    (error: unknown) => {
      assert.ok(error instanceof InexpressibleForLibseccomp);
      const text = error.reasons.join('\n');
      for (const expected of [
        /unknownAction differs/,
        /read \(rule at oracle\.yaml:\d+:3, layer oracle\): unconditional rule after conditional rules/,
        /write .*may overlap an earlier rule/,
        /close .*width-32 lt/,
        /dup .*two conditions on one argument/,
        /getpid .*trap\(7\)/,
      ]) {
        assert.match(text, expected);
      }
      assert.equal(error.reasons.length, 6);
      return true;
    },
  );
});

test('specFromPolicy accepts disjoint eq rules with different actions and a trailing default-action rule', () => {
  const policy = policyOf({
    defaultAction: EPERM,
    rules: [
      rule(['read'], ALLOW, [cond(0, 'eq', 3n)]),
      rule(['read'], EACCES, [cond(0, 'eq', 4n), cond(1, 'gt', 9n)]),
      rule(['read'], EPERM),
    ],
  });
  const spec = specFromPolicy(policy, { optimize: 2 });
  assert.equal(spec.rules.length, 3);
  const { program, skippedRules } = libseccompCompile(spec);
  assert.equal(skippedRules.length, 1);
  assert.equal(emulate(program, { nr: 0, arch: X86_64, args: [3n] }), actionToRet(ALLOW));
  assert.equal(emulate(program, { nr: 0, arch: X86_64, args: [4n, 10n] }), actionToRet(EACCES));
  assert.equal(emulate(program, { nr: 0, arch: X86_64, args: [4n, 9n] }), actionToRet(EPERM));
});

test('libseccomp 2.5.4 mis-merges range checks across rules: it allows a call neither rule matches', () => {
  requireLibseccomp();
  // (a1 > 0 && a3 == 0) || (a1 < 1 && a5 == 0); a1 = 0, a3 = 0, a5 = 1 matches neither rule.
  const decide = peerFilter({
    defaultAction: { kind: 'trap', data: 0 },
    optimize: 1,
    rules: [
      {
        syscall: 'lseek',
        action: ALLOW,
        conditions: [
          { index: 1, op: 'gt', value: 0n },
          { index: 3, op: 'eq', value: 0n },
        ],
      },
      {
        syscall: 'lseek',
        action: ALLOW,
        conditions: [
          { index: 1, op: 'lt', value: 1n },
          { index: 5, op: 'eq', value: 0n },
        ],
      },
    ],
  });
  const lseek = nr('x86_64', 'lseek');
  assert.equal(
    decide(X86_64, lseek, [0n, 0n, 0n, 0n, 0n, 1n]),
    actionToRet(ALLOW),
    'the bug (update libseccompContradictsItsInput if fixed)',
  );
  assert.equal(decide(X86_64, lseek, [0n, 0n, 0n, 1n, 0n, 1n]), actionToRet({ kind: 'trap', data: 0 }));
});

test('libseccomp 2.5.4, optimize 1, x86_64+x32+i386: a rule on an i386-only syscall can drop the nr load (fail-open)', () => {
  requireLibseccomp();
  const spec: LibseccompSpec = {
    defaultAction: ALLOW,
    arches: ['x86_64', 'x32', 'i386'],
    optimize: 1,
    rules: [
      { syscall: 'kill', action: EPERM, conditions: [{ index: 0, op: 'eq', value: 0n }] },
      { syscall: 'waitpid', action: KILL_THREAD, conditions: [] },
    ],
  };
  const kill = nr('x86_64', 'kill');
  const buggy = libseccompCompile(spec).program;
  assert.equal(
    emulate(buggy, { nr: kill, arch: X86_64, args: [0n] }),
    actionToRet(ALLOW),
    'the bug (update libseccompContradictsItsInput if fixed)',
  );
  const tree = libseccompCompile({ ...spec, optimize: 2 }).program;
  assert.equal(
    emulate(tree, { nr: kill, arch: X86_64, args: [0n] }),
    actionToRet(EPERM),
    'optimize 2 is not affected',
  );
});
