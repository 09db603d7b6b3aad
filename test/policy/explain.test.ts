import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { describeCondition, explainSyscall } from '../../src/policy/explain.js';
import { loadPolicy, parsePolicyText } from '../../src/policy/load.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { FIXTURES } from './policy-problems.js';

const POLICY = `${FIXTURES}/layers/exceptions.yaml`;

async function explain(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['explain', ...argv], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

test('explain names the deciding rule, its layer, place and reason, and why others did not match', async () => {
  const { code, stdout, stderr } = await explain(POLICY, 'socket', 'AF_INET');
  assert.equal(stderr, '');
  assert.equal(code, 0);
  assert.match(stdout, /^policy exceptions, x86_64: socket \(41\) args \[0x2, 0x0, 0x0, 0x0, 0x0, 0x0\]$/m);
  assert.match(stdout, /^decision: allow$/m);
  assert.match(
    stdout,
    /^decided by rule 3 \(allow \[socket\]\) of layer business at .*layers\/business\.yaml:7:5$/m,
  );
  assert.match(stdout, /^ {2}reason: HTTP clients and the database connection$/m);
  assert.match(
    stdout,
    /rule 2 \(errno\(EACCES\) \[socket\]\) of layer region-eu at .*region\.yaml:6:5\n {4}did not match: arg0 == 0xa \(32-bit\) is false \(arg0 is 0x2\)/,
  );
  assert.match(
    stdout,
    /rule 7 \(allow \[socket\]\) of layer base at .*base\.yaml:19:5\n {4}did not match: arg0 == 0x1 \(32-bit\) is false/,
  );
});

test('explain reports rules shadowed by an earlier match', async () => {
  const { code, stdout } = await explain(POLICY, 'ptrace');
  assert.equal(code, 0);
  assert.match(stdout, /^decision: errno\(EPERM\)$/m);
  assert.match(stdout, /decided by rule 1 .* of layer exceptions at .*exceptions\.yaml:6:5/);
  assert.match(
    stdout,
    /rule 6 \(kill_process \[ptrace\]\) of layer base .*\n {4}shadowed: it matches too, but an earlier rule decided first/,
  );
});

test('explain: default, unknown and badArch decisions', async () => {
  const byDefault = await explain(POLICY, 'socket', '16');
  assert.match(byDefault.stdout, /^decision: errno\(EACCES\)$/m);
  assert.match(byDefault.stdout, /^decided by defaultAction: no rule for socket matched$/m);
  assert.match(byDefault.stdout, /other rules for socket:/);

  const unknown = await explain(POLICY, '4000');
  assert.equal(unknown.code, 0);
  assert.match(unknown.stdout, /^decision: errno\(ENOSYS\)$/m);
  assert.match(unknown.stdout, /decided by unknownAction: .*number 4000/);

  const badArch = await explain(POLICY, 'read', '--arch', 'aarch64');
  assert.equal(badArch.code, 0);
  assert.match(badArch.stdout, /^decision: kill_process$/m);
  assert.match(
    badArch.stdout,
    /decided by badArchAction: aarch64 is not one of the policy's architectures \(x86_64\)/,
  );
});

test('explain accepts a syscall number, --arch aliases and 32-bit wrap-around arguments', async () => {
  const read = String(syscallNumber('x86_64', 'read'));
  const byNumber = await explain(POLICY, read, '--arch', 'amd64');
  assert.match(byNumber.stdout, /x86_64: read \(0\)/);
  assert.match(byNumber.stdout, /of layer base/);
  const wrapped = await explain(POLICY, 'socket', '0x100000002');
  assert.match(wrapped.stdout, /^decision: allow$/m, 'a 32-bit condition ignores the upper word');
});

test('explain usage errors exit 2 with a message', async () => {
  const typo = await explain(POLICY, 'sockte');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown syscall 'sockte' \(did you mean 'socket'\?\)/);
  const otherAbi = await explain(POLICY, 'socketcall');
  assert.equal(otherAbi.code, 2);
  assert.match(otherAbi.stderr, /'socketcall' does not exist on x86_64/);
  const badArg = await explain(POLICY, 'socket', 'AF_NOPE');
  assert.equal(badArg.code, 2);
  assert.match(badArg.stderr, /ARG0: unknown constant 'AF_NOPE'/);
  const tooMany = await explain(POLICY, 'read', '1', '2', '3', '4', '5', '6', '7');
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.stderr, /at most 6/);
  const missing = await explain(POLICY);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing SYSCALL/);
});

test('explain on a broken policy prints the located problems and exits 2', async () => {
  const { code, stderr } = await explain(`${FIXTURES}/bad/unknown-action.yaml`, 'read');
  assert.equal(code, 2);
  assert.match(
    stderr,
    /bad\/unknown-action\.yaml:6:13: error: unknown action 'deny'\n {2}hint: valid actions:/,
  );
});

test('explainSyscall verdicts and condition text', async () => {
  const policy = await loadPolicy(POLICY);
  const explanation = explainSyscall(policy, 'x86_64', 41, [1n, 0n, 0n, 0n, 0n, 0n]);
  assert.equal(explanation.syscall, 'socket');
  assert.deepEqual(
    explanation.rules.map((entry) => [entry.index, entry.verdict.kind]),
    [
      [1, 'not-matched'],
      [2, 'not-matched'],
      [6, 'decided'],
    ],
  );
  assert.equal(
    describeCondition({ index: 1, op: 'masked_eq', mask: 0xfn, value: 1n, width: 32 }),
    'arg1 & 0xf == 0x1 (32-bit)',
  );
  assert.equal(describeCondition({ index: 5, op: 'ge', value: 0x10n, width: 64 }), 'arg5 >= 0x10');
});

test('on i386, explain judges conditions on the low word as the filter does (int 0x80 upper-word junk)', async () => {
  const policy = await parsePolicyText(
    [
      'name: compat',
      'architectures: [x86_64, i386]',
      'defaultAction: allow',
      'rules:',
      '  - { syscalls: [socket], action: errno(EPERM), reason: no netlink, args: [{ index: 0, op: eq, value: 16 }] }',
      '  - { syscalls: [socket], action: errno(EACCES), reason: no packet, args: [{ index: 0, op: eq, value: 17 }] }',
      '',
    ].join('\n'),
    'compat.yaml',
  );
  const socket = syscallNumber('i386', 'socket')!;
  const junk = (low: bigint): bigint[] => [0x1_00000000n | low, 0n, 0n, 0n, 0n, 0n];
  const netlink = explainSyscall(policy, 'i386', socket, junk(16n));
  assert.equal(netlink.decision.ruleIndex, 0, 'the upper word is ignored on i386');
  const packet = explainSyscall(policy, 'i386', socket, junk(17n));
  assert.equal(packet.decision.ruleIndex, 1);
  const first = packet.rules[0]?.verdict;
  assert.ok(
    first?.kind === 'not-matched',
    JSON.stringify(first, (_k, v: unknown) => String(v)),
  );
  assert.equal(first.failures[0]?.seen, 17n, 'the failed condition reports the low word the kernel sees');
});
