import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyText } from '../../src/policy/load.js';
import { permissionOf, syscallsNamedAsPermitted } from '../../src/review/permission.js';

async function policy(
  defaultAction: string,
  rules: string,
): Promise<Awaited<ReturnType<typeof parsePolicyText>>> {
  const text = `name: p\narchitectures: [x86_64]\ndefaultAction: ${defaultAction}\nrules:\n${rules}`;
  return parsePolicyText(text, 'p.yaml');
}

const DENY_SOME_SOCKETS = `  - syscalls: [socket]
    action: errno(EPERM)
    args: [{ index: 0, op: eq, value: AF_NETLINK, width: 32 }]
    reason: no netlink
`;

test('an unconditional allow is "always"; nothing allowing it is "never"', async () => {
  const p = await policy('errno(EPERM)', '  - syscalls: [read]\n    action: allow\n    reason: r\n');
  assert.equal(permissionOf(p, 'read'), 'always');
  assert.equal(permissionOf(p, 'ptrace'), 'never');
});

test('a conditional deny before an allow, or a conditional allow, is "conditionally"', async () => {
  const deny = await policy(
    'errno(EPERM)',
    `${DENY_SOME_SOCKETS}  - syscalls: [socket]\n    action: allow\n    reason: r\n`,
  );
  assert.equal(permissionOf(deny, 'socket'), 'conditionally');
  const allow = await policy(
    'errno(EPERM)',
    '  - syscalls: [socket]\n    action: allow\n    args: [{ index: 0, op: eq, value: AF_INET, width: 32 }]\n    reason: r\n',
  );
  assert.equal(permissionOf(allow, 'socket'), 'conditionally');
});

test('the default action decides what the rules leave; log lets calls through', async () => {
  const denyList = await policy('allow', DENY_SOME_SOCKETS);
  assert.equal(permissionOf(denyList, 'ptrace'), 'always');
  assert.equal(permissionOf(denyList, 'socket'), 'conditionally');
  const logged = await policy('errno(EPERM)', '  - syscalls: [socket]\n    action: log\n    reason: r\n');
  assert.equal(permissionOf(logged, 'socket'), 'always');
  const shadowed = await policy(
    'errno(EPERM)',
    '  - syscalls: [read]\n    action: kill_process\n    reason: r\n  - syscalls: [read]\n    action: allow\n    reason: r\n',
  );
  assert.equal(permissionOf(shadowed, 'read'), 'never');
  assert.deepEqual(syscallsNamedAsPermitted(shadowed), []);
});
