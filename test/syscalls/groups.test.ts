import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKnownSyscall } from '../../src/syscalls/arch.js';
import { expandGroup, groupMembers, groupNames } from '../../src/syscalls/groups.js';
import { ALL_SYSCALL_NAMES } from '../../src/syscalls/tables.generated.js';

const SYSTEMD_GROUPS = [
  '@aio',
  '@basic-io',
  '@chown',
  '@clock',
  '@cpu-emulation',
  '@debug',
  '@file-system',
  '@io-event',
  '@ipc',
  '@keyring',
  '@memlock',
  '@module',
  '@mount',
  '@network-io',
  '@obsolete',
  '@pkey',
  '@privileged',
  '@process',
  '@raw-io',
  '@reboot',
  '@resources',
  '@sandbox',
  '@setuid',
  '@signal',
  '@swap',
  '@sync',
  '@system-service',
  '@timer',
  '@known',
  '@default',
];

const expand = (name: string): readonly string[] => {
  const names = expandGroup(name);
  assert.ok(names !== undefined, `${name} is not a group`);
  return names;
};

test('groups: every systemd group exists, and nothing else', () => {
  assert.deepEqual([...groupNames()].sort(), [...SYSTEMD_GROUPS].sort());
});

test('groups: every member of every group is a known syscall name', () => {
  for (const group of groupNames()) {
    const unknown = expand(group).filter((name) => !isKnownSyscall(name));
    assert.deepEqual(unknown, [], group);
  }
});

test('groups: every group reference inside a group names a group', () => {
  for (const group of groupNames()) {
    for (const member of groupMembers(group) ?? []) {
      if (member.startsWith('@')) assert.ok(groupNames().includes(member), `${group} -> ${member}`);
    }
  }
});

test('groups: expansions are sorted and free of duplicates', () => {
  for (const group of groupNames()) {
    const names = expand(group);
    assert.deepEqual([...names], [...new Set(names)].sort(), group);
  }
});

test('groups: nested groups expand', () => {
  const service = expand('@system-service');
  for (const name of [
    'read',
    'openat',
    'socket',
    'clone',
    'rt_sigaction',
    'execve',
    'seccomp',
    'landlock_create_ruleset',
    'setuid',
    'timerfd_create',
  ]) {
    assert.ok(service.includes(name), `@system-service lacks ${name}`);
  }
  const privileged = expand('@privileged');
  for (const name of ['chown', 'settimeofday', 'init_module', 'iopl', 'reboot', 'swapon', 'bpf']) {
    assert.ok(privileged.includes(name), `@privileged lacks ${name}`);
  }
  assert.ok(expand('@default').includes('seccomp'), '@default includes @sandbox (systemd PR #34552)');
});

test('groups: @system-service leaves out what systemd keeps out of it', () => {
  const service = new Set(expand('@system-service'));
  for (const group of [
    '@module',
    '@mount',
    '@reboot',
    '@swap',
    '@clock',
    '@raw-io',
    '@debug',
    '@cpu-emulation',
    '@obsolete',
  ]) {
    const leaked = expand(group).filter((name) => service.has(name));
    assert.deepEqual(leaked, [], `${group} members in @system-service`);
  }
});

test('groups: @known is every syscall name of the tables', () => {
  assert.deepEqual(expand('@known'), [...new Set(ALL_SYSCALL_NAMES)].sort());
});

test('groups: unknown names are not groups', () => {
  for (const name of ['@nope', 'basic-io', '', '@', 'read', '@constructor', '@__proto__', 'constructor']) {
    assert.equal(expandGroup(name), undefined, name);
    assert.equal(groupMembers(name), undefined, name);
  }
});
