/**
 * Landlock: planning per ABI (what is handled, granted, and reported as not enforced) and, on this
 * kernel, that a write outside the write paths and a TCP connect/bind to an unlisted loopback port are
 * refused while the listed ones work.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ACCESS_FS,
  ACCESS_NET,
  formatLandlockGaps,
  fsRightsForAbi,
  landlockAbi,
  planLandlock,
  type PathInspector,
} from '../../src/enforce/landlock.js';
import { describe, policyYaml, runUnder, runUnderAsync, scratchDir, writePolicy } from './support.js';

const allDirectories: PathInspector = () => 'directory';
const FS = { read: ['/usr', '/etc'], write: ['/var/tmp/app'], execute: ['/usr/bin'] };
const NET = { bindTcp: [8080], connectTcp: [5432, 8080] };

test('ABI rights grow with the version: REFER at 2, TRUNCATE at 3, IOCTL_DEV at 5', () => {
  assert.equal(fsRightsForAbi(0), 0n);
  assert.equal(fsRightsForAbi(1), (1n << 13n) - 1n);
  assert.equal(fsRightsForAbi(2) & ACCESS_FS.REFER, ACCESS_FS.REFER);
  assert.equal(fsRightsForAbi(2) & ACCESS_FS.TRUNCATE, 0n);
  assert.equal(fsRightsForAbi(3) & ACCESS_FS.TRUNCATE, ACCESS_FS.TRUNCATE);
  assert.equal(fsRightsForAbi(4) & ACCESS_FS.IOCTL_DEV, 0n);
  assert.equal(fsRightsForAbi(5), (1n << 16n) - 1n);
  assert.equal(fsRightsForAbi(7), fsRightsForAbi(5));
});

test('a plan grants each list its rights, merges paths, and handles nothing for an absent section', () => {
  const plan = planLandlock({ ...FS, read: [...FS.read, '/var/tmp/app'] }, undefined, 7, allDirectories);
  assert.ok(plan);
  assert.equal(plan.handledNet, 0n);
  assert.equal(plan.portRules.length, 0);
  const app = plan.pathRules.find((rule) => rule.path === '/var/tmp/app');
  assert.deepEqual(app?.lists, ['read', 'write']);
  assert.equal((app?.access ?? 0n) & ACCESS_FS.READ_FILE, ACCESS_FS.READ_FILE);
  assert.equal((app?.access ?? 0n) & ACCESS_FS.MAKE_REG, ACCESS_FS.MAKE_REG);
  const usr = plan.pathRules.find((rule) => rule.path === '/usr');
  assert.equal((usr?.access ?? 0n) & ACCESS_FS.WRITE_FILE, 0n, 'read grants no write');
  const bin = plan.pathRules.find((rule) => rule.path === '/usr/bin');
  assert.equal(bin?.access, ACCESS_FS.EXECUTE | ACCESS_FS.READ_FILE);
  assert.equal(plan.gaps.length, 0);
  assert.equal(planLandlock(undefined, undefined, 7, allDirectories), undefined);
});

test('a rule on a file keeps only the rights Landlock allows on files', () => {
  const plan = planLandlock(
    { read: [], write: ['/var/log/app.log'], execute: [] },
    undefined,
    7,
    () => 'file',
  );
  const access = plan?.pathRules[0]?.access ?? 0n;
  assert.equal(access & ACCESS_FS.MAKE_DIR, 0n);
  assert.equal(access, ACCESS_FS.WRITE_FILE | ACCESS_FS.TRUNCATE | ACCESS_FS.IOCTL_DEV);
});

test('ports: one rule per port with the union of bind and connect', () => {
  const plan = planLandlock(undefined, NET, 4, allDirectories);
  assert.deepEqual(plan?.portRules, [
    { port: 8080, access: ACCESS_NET.BIND_TCP | ACCESS_NET.CONNECT_TCP },
    { port: 5432, access: ACCESS_NET.CONNECT_TCP },
  ]);
  assert.throws(
    () => planLandlock(undefined, { bindTcp: [70000], connectTcp: [] }, 4, allDirectories),
    /network.bindTcp: 70000/,
  );
});

test('an older ABI reports exactly the rules it cannot enforce', () => {
  const abi3 = planLandlock(FS, NET, 3, allDirectories);
  assert.ok(abi3);
  assert.equal(abi3.handledNet, 0n);
  assert.deepEqual(formatLandlockGaps(abi3), [
    'sysfence: landlock: filesystem: ioctl on device files (IOCTL_DEV) is not restricted outside the write paths (this kernel has Landlock ABI 3, ABI 5 needed)',
    'sysfence: landlock: network.bindTcp 8080: not enforced: TCP bind to any port is allowed (this kernel has Landlock ABI 3, ABI 4 needed)',
    'sysfence: landlock: network.connectTcp 5432: not enforced: TCP connect to any port is allowed (this kernel has Landlock ABI 3, ABI 4 needed)',
    'sysfence: landlock: network.connectTcp 8080: not enforced: TCP connect to any port is allowed (this kernel has Landlock ABI 3, ABI 4 needed)',
  ]);
  const abi1 = planLandlock(FS, undefined, 1, allDirectories);
  assert.deepEqual(
    abi1?.gaps.map((gap) => `${gap.rule} ${gap.neededAbi}`),
    ['filesystem.write 2', 'filesystem 3', 'filesystem 5'],
  );
  const none = planLandlock(FS, undefined, 0, allDirectories);
  assert.equal(none?.gaps.length, 4, 'every path is reported when Landlock is unavailable');
  assert.equal(none?.pathRules.length, 0);
  assert.equal(planLandlock(FS, NET, 5, allDirectories)?.gaps.length, 0);
});

test('a missing or relative path is an error naming the list', () => {
  assert.throws(
    () => planLandlock({ read: ['/no/such/path'], write: [], execute: [] }, undefined, 7),
    /filesystem.read: path \/no\/such\/path/,
  );
  assert.throws(
    () => planLandlock({ read: [], write: ['relative/dir'], execute: [] }, undefined, 7),
    /must be absolute/,
  );
});

test('this kernel has Landlock with TCP rules (ABI ≥ 4)', () => {
  assert.ok(landlockAbi() >= 4, `Landlock ABI ${landlockAbi()}`);
});

const EXEC_PATHS = '[/usr, /bin, /lib, /lib64]';

test('Landlock refuses a write outside the write paths; the write path works', () => {
  const root = join(scratchDir(), 'landlock-fs');
  const allowed = join(root, 'allowed');
  const denied = join(root, 'denied');
  mkdirSync(allowed, { recursive: true });
  mkdirSync(denied, { recursive: true });
  const extra = `filesystem:\n  read: [/usr, /etc]\n  write: [${allowed}]\n  execute: ${EXEC_PATHS}`;
  const result = runUnder(writePolicy(policyYaml({ extra })), [
    'sh',
    '-c',
    `echo yes > ${allowed}/f; echo no > ${denied}/f`,
  ]);
  assert.equal(readFileSync(join(allowed, 'f'), 'utf8'), 'yes\n', describe(result));
  assert.equal(existsSync(join(denied, 'f')), false);
  assert.match(result.stderr, /Permission denied/);
});

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.end());
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

test('Landlock refuses TCP connect and bind to unlisted loopback ports; listed ones work', async () => {
  const [open, closed] = await Promise.all([listen(), listen()]);
  try {
    const bindPort = portOf(closed) + 1;
    const extra = `network:\n  bindTcp: [${bindPort}]\n  connectTcp: [${portOf(open)}]`;
    const policy = writePolicy(policyYaml({ extra }));
    const script = [
      'import socket, sys',
      'def attempt(what, port):',
      '    s = socket.socket()',
      '    try:',
      '        (s.connect if what == "connect" else s.bind)(("127.0.0.1", port))',
      '        print(what, port, "ok")',
      '    except OSError as e:',
      '        print(what, port, "refused", e.errno)',
      '    finally:',
      '        s.close()',
      'for what, port in zip(sys.argv[1::2], sys.argv[2::2]):',
      '    attempt(what, int(port))',
    ].join('\n');
    const args = [
      'connect',
      portOf(open),
      'connect',
      portOf(closed),
      'bind',
      bindPort,
      'bind',
      bindPort + 1,
    ].map(String);
    const result = await runUnderAsync(policy, ['/usr/bin/python3', '-c', script, ...args]);
    assert.deepEqual(
      result.stdout.split('\n').filter((line) => line !== ''),
      [
        `connect ${portOf(open)} ok`,
        `connect ${portOf(closed)} refused 13`,
        `bind ${bindPort} ok`,
        `bind ${bindPort + 1} refused 13`,
      ],
    );
  } finally {
    open.close();
    closed.close();
  }
});
