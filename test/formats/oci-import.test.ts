import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { actionToRet, type Action } from '../../src/policy/action.js';
import { PolicyError } from '../../src/policy/errors.js';
import { decide } from '../../src/policy/evaluate.js';
import { importOci } from '../../src/formats/oci.js';
import { DOCKER_DEFAULT_CAPS } from '../../src/formats/docker-caps.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { dockerProfile, profile, ret } from './oci-helpers.js';

const ALLOW = actionToRet({ kind: 'allow' });
const EPERM = actionToRet({ kind: 'errno', errno: 1 });
const ENOSYS = actionToRet({ kind: 'errno', errno: 38 });
const CLONE_NEWNS = 0x20000n;
const SIGCHLD = 17n;

function importDocker(options: Parameters<typeof importOci>[2] = {}) {
  return importOci(dockerProfile(), 'docker-default.json', {
    arch: 'x86_64',
    kernelVersion: '6.8',
    ...options,
  });
}

/** Runs importOci and returns the PolicyError it throws (failing when it does not). */
function importError(text: string): PolicyError {
  try {
    importOci(text, 'p.json', { arch: 'x86_64', kernelVersion: '6.8' });
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  assert.fail('expected a PolicyError');
}

test('docker-default on x86_64 with the default caps: rules, architectures, default and bad-arch actions', () => {
  const { policy, warnings } = importDocker();
  assert.deepEqual(policy.architectures, ['x86_64', 'i386', 'x32']);
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 1 });
  assert.deepEqual(policy.unknownAction, policy.defaultAction);
  assert.deepEqual(policy.badArchAction, { kind: 'kill_thread' });
  // 23 entries: 1 big allow list, ptrace (minKernel 4.8), 3 socket, 5 personality, arch_prctl, modify_ldt,
  // clone (masked), clone3 (ENOSYS), chroot (CAP_SYS_CHROOT is a default cap).
  assert.equal(policy.rules.length, 15);
  assert.ok(policy.rules.every((rule) => rule.tier === 'required' && rule.layer === 'docker-default'));
  assert.match(policy.rules[0]?.reason ?? '', /^imported from docker-default\.json syscalls\[0\]$/);
  assert.equal(policy.rules[0]?.location.line, 62);
  assert.ok(
    warnings.some((w) => /-ENOSYS stub/.test(w)),
    'the runc ENOSYS stub difference is reported',
  );
});

test('docker-default: clone is allowed only without namespace flags; clone3 gets ENOSYS', () => {
  const { policy } = importDocker();
  const clones = policy.rules.filter((rule) => rule.syscalls.includes('clone'));
  assert.equal(clones.length, 1);
  assert.deepEqual(clones[0]?.conditions, [
    { index: 0, op: 'masked_eq', mask: 0x7e020000n, value: 0n, width: 64 },
  ]);
  assert.equal(ret(policy, 'x86_64', 'clone', [SIGCHLD]), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'clone', [SIGCHLD | CLONE_NEWNS]), EPERM);
  assert.equal(ret(policy, 'x86_64', 'clone3'), ENOSYS);
  assert.equal(ret(policy, 'x86_64', 'mount'), EPERM);
});

test('docker-default: personality allows exactly its five personas', () => {
  const { policy } = importDocker();
  const values = policy.rules
    .filter((rule) => rule.syscalls.includes('personality'))
    .map((rule) => rule.conditions.map((c) => `${c.index} ${c.op} ${c.value}`).join());
  assert.deepEqual(values, ['0 eq 0', '0 eq 8', '0 eq 131072', '0 eq 131080', '0 eq 4294967295']);
  assert.equal(ret(policy, 'x86_64', 'personality', [8n]), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'personality', [9n]), EPERM);
  assert.equal(ret(policy, 'x86_64', 'personality', [0xffffffffn]), ALLOW);
});

test('docker-default: includes/excludes by caps (CAP_SYS_ADMIN allows mount, clone and clone3 unconditionally)', () => {
  const { policy } = importDocker({ caps: [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'] });
  assert.equal(policy.rules.length, 14);
  assert.equal(ret(policy, 'x86_64', 'mount'), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'clone', [SIGCHLD | CLONE_NEWNS]), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'clone3'), ALLOW);
  const withoutChroot = importDocker({ caps: ['CAP_SYS_ADMIN'] }).policy;
  assert.equal(ret(withoutChroot, 'x86_64', 'chroot'), EPERM);
  assert.equal(ret(policy, 'x86_64', 'chroot'), ALLOW);
});

test('docker-default: arches filters and archMap follow the native architecture', () => {
  const arm = importDocker({ arch: 'aarch64' });
  assert.deepEqual(arm.policy.architectures, ['aarch64', 'arm']);
  assert.equal(ret(arm.policy, 'arm', 'set_tls'), ALLOW);
  assert.ok(!arm.policy.rules.some((rule) => rule.syscalls.includes('arch_prctl')));
  assert.ok(
    arm.warnings.some((w) => /unknown syscall 'arm_sync_file_range'/.test(w)),
    arm.warnings.join('\n'),
  );
  const x86 = importDocker();
  assert.equal(ret(x86.policy, 'x86_64', 'arch_prctl'), ALLOW);
  assert.ok(!x86.policy.rules.some((rule) => rule.syscalls.includes('set_tls')));
  // s390x: clone's flags are its second argument, and the s390 entry carries its comment as the reason.
  const s390 = importDocker({ arch: 's390x' });
  const clone = s390.policy.rules.find((rule) => rule.syscalls.includes('clone'));
  assert.equal(clone?.conditions[0]?.index, 1);
  assert.equal(clone?.reason, 's390 parameter ordering for clone is different');
});

test('docker-default: minKernel 4.8 gates ptrace', () => {
  assert.equal(ret(importDocker({ kernelVersion: '4.7.10' }).policy, 'x86_64', 'ptrace'), EPERM);
  assert.equal(ret(importDocker({ kernelVersion: '4.8' }).policy, 'x86_64', 'ptrace'), ALLOW);
  assert.equal(ret(importDocker({ kernelVersion: '6.18.44-fc' }).policy, 'x86_64', 'ptrace'), ALLOW);
});

test('runc: an argument index used twice splits the entry into one rule per condition (OR)', () => {
  const text = profile([
    {
      names: ['personality'],
      action: 'SCMP_ACT_ALLOW',
      args: [
        { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
        { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
      ],
    },
    {
      names: ['kill'],
      action: 'SCMP_ACT_ALLOW',
      args: [
        { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
        { index: 1, value: 2, op: 'SCMP_CMP_EQ' },
      ],
    },
  ]);
  const { policy } = importOci(text, 'p.json', { arch: 'x86_64' });
  assert.equal(policy.rules.length, 3);
  assert.equal(ret(policy, 'x86_64', 'personality', [1n]), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'personality', [2n]), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'kill', [1n, 0n]), EPERM);
  assert.equal(ret(policy, 'x86_64', 'kill', [1n, 2n]), ALLOW);
});

test('action mapping follows runc: KILL is kill_thread, errnoRet feeds ERRNO and TRACE, defaults EPERM', () => {
  const cases: readonly [string, number | undefined, Action][] = [
    ['SCMP_ACT_KILL', undefined, { kind: 'kill_thread' }],
    ['SCMP_ACT_KILL_THREAD', undefined, { kind: 'kill_thread' }],
    ['SCMP_ACT_KILL_PROCESS', undefined, { kind: 'kill_process' }],
    ['SCMP_ACT_ERRNO', undefined, { kind: 'errno', errno: 1 }],
    ['SCMP_ACT_ERRNO', 13, { kind: 'errno', errno: 13 }],
    ['SCMP_ACT_TRAP', undefined, { kind: 'trap', data: 0 }],
    ['SCMP_ACT_TRACE', undefined, { kind: 'trace', data: 1 }],
    ['SCMP_ACT_TRACE', 7, { kind: 'trace', data: 7 }],
    ['SCMP_ACT_LOG', undefined, { kind: 'log' }],
    ['SCMP_ACT_NOTIFY', undefined, { kind: 'notify' }],
  ];
  for (const [action, errnoRet, expected] of cases) {
    const entry = { names: ['getpid'], action, ...(errnoRet === undefined ? {} : { errnoRet }) };
    const { policy } = importOci(profile([entry], { defaultAction: 'SCMP_ACT_ALLOW' }), 'p.json', {
      arch: 'x86_64',
    });
    assert.deepEqual(policy.rules[0]?.action, expected, action);
  }
  const withDefault = importOci(profile([], { defaultErrnoRet: 38 }), 'p.json', { arch: 'x86_64' }).policy;
  assert.deepEqual(withDefault.defaultAction, { kind: 'errno', errno: 38 });
  assert.deepEqual(
    importOci(profile([], { defaultAction: 'SCMP_ACT_KILL' }), 'p.json', {
      arch: 'x86_64',
      unknownAction: { kind: 'errno', errno: 38 },
    }).policy.unknownAction,
    { kind: 'errno', errno: 38 },
  );
});

test('runc skips entries whose action equals the default action, and ignores unknown names with a warning', () => {
  const text = profile([
    { names: ['getpid'], action: 'SCMP_ACT_ERRNO' },
    { names: ['getpid', 'no_such_call'], action: 'SCMP_ACT_ALLOW' },
  ]);
  const { policy, warnings } = importOci(text, 'p.json', { arch: 'x86_64' });
  assert.equal(policy.rules.length, 1);
  assert.deepEqual(policy.rules[0]?.syscalls, ['getpid']);
  assert.equal(ret(policy, 'x86_64', 'getpid'), ALLOW);
  assert.ok(
    warnings.some((w) => /^p\.json:\d+:\d+: unknown syscall 'no_such_call'/.test(w)),
    warnings.join('\n'),
  );
});

test('a full config.json is accepted; the native arch is always in the filter; masked_eq uses valueTwo', () => {
  const config = JSON.stringify({
    ociVersion: '1.0.2',
    linux: {
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86'],
        syscalls: [
          {
            names: ['clone'],
            action: 'SCMP_ACT_ALLOW',
            args: [{ index: 0, value: 0xff, valueTwo: 0x11, op: 'SCMP_CMP_MASKED_EQ' }],
          },
        ],
      },
    },
  });
  const { policy } = importOci(config, 'config.json', { arch: 'x86_64' });
  assert.deepEqual(policy.architectures, ['x86_64', 'i386']);
  assert.equal(ret(policy, 'i386', 'clone', [0x311n]), ALLOW);
  assert.equal(ret(policy, 'i386', 'clone', [0x12n]), EPERM);
});

test('errors are located PolicyErrors: malformed JSON, unknown action, bad op, index > 5, bad arch, minKernel', () => {
  const where = (error: PolicyError) =>
    `${error.problems[0]?.location?.line}:${error.problems[0]?.location?.column}`;
  assert.equal(where(importError('{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [,]\n}')), '3:16');
  const badAction = importError(profile([{ names: ['read'], action: 'SCMP_ACT_ALLOWW' }]));
  assert.match(badAction.message, /unknown action 'SCMP_ACT_ALLOWW'/);
  assert.equal(where(badAction), '11:17');
  const badOp = importError(
    profile([
      { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQUAL' }] },
    ]),
  );
  assert.match(badOp.message, /unknown op 'SCMP_CMP_EQUAL'/);
  const badIndex = importError(
    profile([
      { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] },
    ]),
  );
  assert.match(badIndex.message, /index must be an integer 0\.\.5/);
  assert.equal(where(badIndex), '14:20');
  const badArch = importError(profile([], { architectures: ['SCMP_ARCH_VAX'] }));
  assert.match(badArch.message, /unknown architecture 'SCMP_ARCH_VAX'/);
  assert.equal(where(badArch), '4:5');
  const badKernel = importError(
    profile([{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.8.1' } }]),
  );
  assert.match(badKernel.message, /invalid minKernel '5\.8\.1'/);
  assert.match(
    importError(profile([], { defaultAction: 'SCMP_ACT_NOTIFY' })).message,
    /cannot be the default action/,
  );
  assert.match(
    importError(profile([{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }])).message,
    /errnoRet must be an integer 0\.\.4095/,
  );
});

test('libseccomp merging: an unconditional rule decides the syscall whatever its position', () => {
  const text = profile([
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
  ]);
  const { policy } = importOci(text, 'p.json', { arch: 'x86_64' });
  assert.equal(ret(policy, 'x86_64', 'personality', [1n]), actionToRet({ kind: 'errno', errno: 5 }));
});

test('libseccomp merging: overlapping conditions with different actions are refused; disjoint ones kept', () => {
  const overlapping = importError(
    profile([
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_LOG', args: [{ index: 1, value: 2, op: 'SCMP_CMP_EQ' }] },
    ]),
  );
  assert.match(overlapping.message, /neither first- nor last-match/);
  const identical = importError(
    profile([
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
    ]),
  );
  assert.match(identical.message, /EEXIST/);
  const disjoint = profile([
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 5, op: 'SCMP_CMP_LT' }] },
    { names: ['personality'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 5, op: 'SCMP_CMP_GE' }] },
  ]);
  const { policy } = importOci(disjoint, 'p.json', { arch: 'x86_64' });
  assert.equal(ret(policy, 'x86_64', 'personality', [4n]), ALLOW);
  assert.equal(ret(policy, 'x86_64', 'personality', [5n]), actionToRet({ kind: 'log' }));
});

/** Asks real libseccomp (python3-seccomp) what runc's filter decides for each sample on x86_64. */
function libseccompDecisions(
  text: string,
  samples: readonly (readonly [number, readonly bigint[]])[],
): number[] {
  const request = JSON.stringify({
    profile: JSON.parse(text),
    caps: DOCKER_DEFAULT_CAPS,
    kernel: [6, 8],
    samples: samples.map(([nr, args]) => [nr, args.map(String)]),
  });
  const oracle = new URL('../fixtures/oci/libseccomp_oracle.py', import.meta.url).pathname;
  const result = spawnSync('/usr/bin/python3', [oracle], { input: request, encoding: 'utf8' });
  assert.equal(
    result.status,
    0,
    `libseccomp oracle failed (install python3-seccomp: apt-get install python3-seccomp): ${result.stderr}`,
  );
  const answer = JSON.parse(result.stdout) as { results?: number[]; error?: string };
  assert.ok(answer.results, `libseccomp refused the profile: ${answer.error}`);
  return answer.results;
}

test("decisions match libseccomp (the oracle) for Docker's profile and for merged rules", () => {
  const merged = profile([
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
    { names: ['kill'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 5, op: 'SCMP_CMP_GE' }] },
    {
      names: ['kill'],
      action: 'SCMP_ACT_ALLOW',
      args: [
        { index: 0, value: 5, op: 'SCMP_CMP_LT' },
        { index: 1, value: 9, op: 'SCMP_CMP_NE' },
      ],
    },
    {
      names: ['getpid'],
      action: 'SCMP_ACT_TRACE',
      errnoRet: 3,
      args: [{ index: 2, value: 0xf0, valueTwo: 0x1f0, op: 'SCMP_CMP_MASKED_EQ' }],
    },
    {
      names: ['getpid'],
      action: 'SCMP_ACT_TRACE',
      errnoRet: 3,
      args: [
        { index: 2, value: 7, op: 'SCMP_CMP_EQ' },
        { index: 2, value: 8, op: 'SCMP_CMP_EQ' },
      ],
    },
  ]);
  for (const text of [merged, dockerProfile()]) {
    const { policy } = importOci(text, 'p.json', { arch: 'x86_64', kernelVersion: '6.8' });
    const names = [
      'personality',
      'kill',
      'getpid',
      'clone',
      'socket',
      'read',
      'mount',
      'clone3',
      'ptrace',
      'chroot',
    ];
    const values = [
      0n,
      1n,
      4n,
      5n,
      7n,
      8n,
      9n,
      0xf0n,
      0x1f0n,
      0x20000n,
      0x10000n | 17n,
      38n,
      39n,
      40n,
      41n,
      0x100000001n,
      (1n << 64n) - 1n,
    ];
    const samples: [number, bigint[]][] = [];
    for (const name of names) {
      for (const value of values) {
        for (const index of [0, 1, 2]) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[index] = value;
          samples.push([syscallNumber('x86_64', name) as number, args]);
        }
      }
    }
    const expected = libseccompDecisions(text, samples);
    samples.forEach(([nr, args], i) => {
      const ours = actionToRet(decide(policy, 'x86_64', nr, args).action);
      assert.equal(ours, expected[i], `nr ${nr} args ${args.join(',')}`);
    });
  }
});
