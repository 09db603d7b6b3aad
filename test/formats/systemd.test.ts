import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libseccompUnknownNames } from '../../bench/peers/libseccomp.js';
import { diffPolicies, formatDiffEntry } from '../../src/bpf/diff.js';
import { exportSystemd } from '../../src/formats/systemd-export.js';
import { actionRank } from '../../src/formats/systemd-names.js';
import { importSystemd, type GroupExpander, type SystemdUnitText } from '../../src/formats/systemd-import.js';
import { actionToRet, type Action } from '../../src/policy/action.js';
import { PolicyError } from '../../src/policy/errors.js';
import { decide } from '../../src/policy/evaluate.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { isKnownSyscall, syscallNumber } from '../../src/syscalls/arch.js';
import { expandGroup } from '../../src/syscalls/groups.js';
import { assertNoDiff } from './firecracker-oracles.js';

const DIR = 'test/fixtures/systemd';
const UNIT = `${DIR}/systemd-timesyncd.service`;
const DROP_IN = `${DIR}/systemd-timesyncd.service.d/50-local.conf`;
const INSTALL_HINT = 'apt-get install -y systemd (systemd-analyze)';

function fixtureFiles(): SystemdUnitText[] {
  return [UNIT, DROP_IN].map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

function outcome(policy: ResolvedPolicy, name: string, args: readonly bigint[] = []): Action {
  const nr = syscallNumber('x86_64', name);
  assert.notEqual(nr, undefined, name);
  return decide(policy, 'x86_64', nr as number, args).action;
}

function systemdAnalyze(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { stdout: string; stderr: string } {
  const run = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (run.error !== undefined)
    assert.fail(`systemd-analyze did not run (${run.error.message}); install: ${INSTALL_HINT}`);
  assert.equal(run.status, 0, run.stderr);
  return { stdout: run.stdout, stderr: run.stderr };
}

/** What `systemd-analyze verify` says about a minimal service with `dropIn` as its drop-in ('' = nothing). */
function verifyDropIn(dropIn: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-systemd-'));
  try {
    writeFileSync(
      join(dir, 'sysfence-test.service'),
      '[Unit]\nDescription=t\n[Service]\nExecStart=/bin/true\n',
    );
    mkdirSync(join(dir, 'sysfence-test.service.d'));
    writeFileSync(join(dir, 'sysfence-test.service.d', 'sysfence.conf'), dropIn);
    const { stdout, stderr } = systemdAnalyze(['verify', '--man=no', join(dir, 'sysfence-test.service')], {
      SYSTEMD_UNIT_PATH: `${dir}:`,
    });
    return `${stdout}${stderr}`.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The installed systemd's @groups (`systemd-analyze syscall-filter`), nested groups expanded. */
function installedGroups(): GroupExpander {
  const { stdout } = systemdAnalyze(['syscall-filter', '--no-pager']);
  const direct = new Map<string, string[]>();
  let current = '';
  for (const line of stdout.split('\n')) {
    const word = line.trim();
    if (line.startsWith('@')) {
      current = word;
      direct.set(current, []);
    } else if (word !== '' && !word.startsWith('#')) direct.get(current)?.push(word);
  }
  const expand = (group: string): string[] | undefined => {
    const members = direct.get(group);
    if (members === undefined) return undefined;
    return members
      .flatMap((member) => (member.startsWith('@') ? (expand(member) ?? []) : [member]))
      .filter(isKnownSyscall);
  };
  return expand;
}

/**
 * Asserts systemd-analyze verify accepts an exported drop-in. The only message allowed is systemd 252
 * (libseccomp 2.5.4) not knowing a newer call, and only in an allow list: there an ignored name is
 * either not allowed (stricter) or not removed — and a call libseccomp cannot name gets no rule at all.
 */
function assertSystemdAccepts(dropIn: string): void {
  const lines = verifyDropIn(dropIn)
    .split('\n')
    .filter((line) => line !== '');
  const names = lines.map((line) => /Failed to parse system call, ignoring: (\S+)$/.exec(line)?.[1]);
  assert.ok(
    names.every((name) => name !== undefined),
    lines.join('\n'),
  );
  if (names.length === 0) return;
  assert.match(
    dropIn,
    /^SystemCallFilter=[^~\n]/m,
    `an ignored name in a deny list would go undenied: ${lines.join('\n')}`,
  );
  const unknown = libseccompUnknownNames(['x86_64'], names as string[]).get('x86_64') ?? [];
  assert.deepEqual(
    names.filter((name) => !unknown.includes(name ?? '')),
    [],
    'systemd ignored a name libseccomp knows',
  );
}

test("Debian's systemd-timesyncd unit plus a drop-in: allow list, @groups, removals, ignored errno, logging", () => {
  const { policy, warnings } = importSystemd(fixtureFiles(), { arch: 'x86_64' });
  assert.deepEqual(policy.architectures, ['x86_64']);
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 1 });
  assert.deepEqual(policy.unknownAction, policy.defaultAction);
  for (const name of ['read', 'clock_settime', 'socket', 'ioctl', 'execve'])
    assert.equal(outcome(policy, name).kind, 'allow', name);
  for (const name of ['mount', 'kexec_load', 'ptrace', 'reboot'])
    assert.deepEqual(outcome(policy, name), { kind: 'errno', errno: 1 }, name);
  assert.equal(outcome(policy, 'connect').kind, 'log');
  assert.ok(
    warnings.some((w) => /50-local\.conf:7: allow-listed system calls cannot take an error number/.test(w)),
    warnings.join('\n'),
  );
  // systemd itself reports the same line the same way.
  const reported = verifyDropIn(readFileSync(DROP_IN, 'utf8'));
  assert.match(
    reported,
    /sysfence\.conf:7: Allow-listed system calls cannot take error number, ignoring: ptrace:EACCES/,
  );
});

test('import → export → import keeps every decision, and systemd-analyze verify accepts the drop-in silently', () => {
  const { policy } = importSystemd(fixtureFiles(), { arch: 'x86_64' });
  const exported = exportSystemd(policy, { arch: 'x86_64' });
  assertSystemdAccepts(exported.text);
  const again = importSystemd([{ file: 'sysfence.conf', text: exported.text }], { arch: 'x86_64' });
  assertNoDiff(policy, again.policy);
  assert.match(exported.text, /^SystemCallFilter=.*@system-service/m);
  assert.match(exported.text, /^SystemCallErrorNumber=EPERM$/m);
  assert.match(exported.text, /^SystemCallArchitectures=x86-64$/m);
});

test("read with the installed systemd's (older) group table, the exported allow list is never weaker", () => {
  const { policy } = importSystemd(fixtureFiles(), { arch: 'x86_64' });
  const exported = exportSystemd(policy, { arch: 'x86_64' });
  const old = importSystemd([{ file: 'sysfence.conf', text: exported.text }], {
    arch: 'x86_64',
    groups: installedGroups(),
  });
  const changes = diffPolicies(policy, old.policy, { arch: 'x86_64' });
  // open_tree: allowed here through @file-system (sysfence's table); systemd 252 has it in @mount only.
  assert.equal(outcome(old.policy, 'open_tree').kind, 'errno');
  for (const change of changes) {
    assert.ok(
      actionRank(change.after) > actionRank(change.before),
      `weaker on the installed systemd: ${formatDiffEntry(change)}`,
    );
  }
  // Calls newer than systemd 252's groups (landlock_*, mseal, ...) are denied there: stricter, as intended.
  assert.ok(changes.some((change) => change.syscall === 'mseal'));
});

test("a group written for an allow list cannot let a denied former member through (open_tree in 252's @mount)", async () => {
  const policy = await parsePolicyText(
    [
      'name: m',
      'architectures: [x86_64]',
      'defaultAction: errno(EPERM)',
      'rules:',
      '  - {syscalls: ["@mount"], action: allow, reason: r}',
      '',
    ].join('\n'),
    'm.yaml',
  );
  const exported = exportSystemd(policy, { arch: 'x86_64' });
  assert.match(exported.text, /^SystemCallFilter=@mount$/m);
  assert.match(exported.text, /^SystemCallFilter=~.*\bopen_tree\b/m);
  const old = importSystemd([{ file: 'm.conf', text: exported.text }], {
    arch: 'x86_64',
    groups: installedGroups(),
  });
  assert.equal(outcome(old.policy, 'open_tree').kind, 'errno');
  assert.equal(outcome(old.policy, 'mount').kind, 'allow');
});

test("the installed systemd's groups hold no call sysfence's table leaves out, except open_tree in @mount", () => {
  const installed = installedGroups();
  const { stdout } = systemdAnalyze(['syscall-filter', '--no-pager']);
  const groups = stdout.split('\n').filter((line) => line.startsWith('@'));
  assert.ok(groups.length > 20, 'systemd-analyze lists its groups');
  const extra = groups.flatMap((group) => {
    const ours = new Set(expandGroup(group) ?? []);
    return (installed(group) ?? []).filter((name) => !ours.has(name)).map((name) => `${group}:${name}`);
  });
  assert.deepEqual([...new Set(extra)], ['@mount:open_tree']);
});

const DENY_LIST = [
  'name: deny',
  'architectures: [x86_64, i386]',
  'defaultAction: allow',
  'unknownAction: allow',
  'badArchAction: kill_thread',
  'rules:',
  '  - {syscalls: [ptrace, process_vm_readv], action: errno(EACCES), reason: no debugging}',
  '  - {syscalls: [kexec_load, reboot], action: kill_process, reason: never}',
  '  - {syscalls: [personality], action: log, reason: watch}',
  '',
].join('\n');

test('a deny list exports as ~name:ERRNO words, bare names for kill, SystemCallLog for log, and round-trips', async () => {
  const policy = await parsePolicyText(DENY_LIST, 'deny.yaml');
  const exported = exportSystemd(policy, { arch: 'x86_64' });
  assert.match(exported.text, /^SystemCallFilter=~process_vm_readv:EACCES ptrace:EACCES$/m);
  assert.match(exported.text, /^SystemCallFilter=~kexec_load reboot$/m);
  assert.match(exported.text, /^SystemCallLog=personality$/m);
  assert.match(exported.text, /^SystemCallArchitectures=x86-64 x86$/m);
  assert.deepEqual(exported.warnings, []);
  assertSystemdAccepts(exported.text);
  const again = importSystemd([{ file: 'd.conf', text: exported.text }], { arch: 'x86_64' });
  assertNoDiff(policy, again.policy);
});

test('conditions are never exported weaker: a conditional allow becomes a denial, a conditional denial unconditional', async () => {
  const allowList = await parsePolicyText(
    [
      'name: cond',
      'architectures: [x86_64]',
      'defaultAction: errno(EPERM)',
      'rules:',
      '  - {syscalls: [read, write, exit_group], action: allow, reason: io}',
      '  - syscalls: [socket]',
      '    action: allow',
      '    args: [{index: 0, op: eq, value: 1}]',
      '    reason: unix only',
      '',
    ].join('\n'),
    'cond.yaml',
  );
  const exported = exportSystemd(allowList, { arch: 'x86_64' });
  assert.ok(
    exported.warnings.some((w) =>
      /'socket': systemd cannot compare arguments.*exported as the strictest, errno\(EPERM\)/.test(w),
    ),
  );
  const back = importSystemd([{ file: 'c.conf', text: exported.text }], { arch: 'x86_64' }).policy;
  assert.deepEqual(outcome(back, 'socket', [1n]), { kind: 'errno', errno: 1 });
  const denyList = await parsePolicyText(
    DENY_LIST.replace(
      'action: log, reason: watch}',
      'action: log, reason: watch}\n  - {syscalls: [clone], action: errno(EPERM), args: [{index: 0, op: masked_eq, mask: 0x10000000, value: 0x10000000}], reason: no userns}',
    ),
    'deny2.yaml',
  );
  const denied = exportSystemd(denyList, { arch: 'x86_64' });
  assert.match(denied.text, /^SystemCallFilter=~clone:EPERM$/m);
  assert.ok(denied.warnings.some((w) => /'clone'/.test(w)));
});

test('what systemd would carry weaker is refused: a kill rule under an errno default; trap as default', async () => {
  const kill = await parsePolicyText(
    [
      'name: k',
      'architectures: [x86_64]',
      'defaultAction: errno(EPERM)',
      'rules:',
      '  - {syscalls: [ptrace], action: kill_process, reason: r}',
      '',
    ].join('\n'),
    'k.yaml',
  );
  assert.throws(
    () => exportSystemd(kill),
    (error: unknown) => error instanceof PolicyError && /'ptrace'.*weaker/.test(error.message),
  );
  const trap = await parsePolicyText(
    ['name: t', 'architectures: [x86_64]', 'defaultAction: trap', 'rules: []', ''].join('\n'),
    't.yaml',
  );
  assert.throws(() => exportSystemd(trap), /cannot use trap as the default action/);
});

test('empty assignments reset, a deny list keeps its own errno, SystemCallErrorNumber=kill kills, unknown arch is an error', () => {
  const text = [
    '[Service]',
    'SystemCallFilter=read write',
    'SystemCallFilter=',
    'SystemCallFilter=~@mount:ENOSYS ptrace',
    'SystemCallFilter=~bogus_call',
    'SystemCallErrorNumber=kill',
    'SystemCallArchitectures=native x86',
    '',
  ].join('\n');
  const { policy, warnings } = importSystemd([{ file: 'r.conf', text }], { arch: 'x86_64' });
  assert.deepEqual(policy.architectures, ['x86_64', 'i386']);
  assert.equal(outcome(policy, 'read').kind, 'allow');
  assert.equal(outcome(policy, 'execve').kind, 'allow');
  assert.deepEqual(outcome(policy, 'mount'), { kind: 'errno', errno: 38 });
  assert.equal(actionToRet(outcome(policy, 'ptrace')), actionToRet({ kind: 'kill_process' }));
  assert.ok(warnings.some((w) => /r\.conf:5: unknown system call 'bogus_call'/.test(w)));
  assert.throws(
    () => importSystemd([{ file: 'a.conf', text: '[Service]\nSystemCallArchitectures=vax\n' }]),
    (error: unknown) => error instanceof PolicyError && error.problems[0]?.location?.line === 2,
  );
});

test('loadAnyPolicy reads a unit with the drop-ins beside it, in systemd order', async () => {
  const { loadAnyPolicy } = await import('../../src/formats/load.js');
  const loaded = await loadAnyPolicy(UNIT, { arch: 'x86_64' });
  assert.equal(loaded.format, 'systemd');
  assertNoDiff(loaded.policy, importSystemd(fixtureFiles(), { arch: 'x86_64' }).policy);
  assert.equal(outcome(loaded.policy, 'connect').kind, 'log', 'the drop-in was applied');
  const dropInOnly = await loadAnyPolicy(DROP_IN, { arch: 'x86_64' });
  assert.equal(dropInOnly.format, 'systemd');
});

test('kill and log defaults: SystemCallErrorNumber=kill, SystemCallLog=~ exemptions; verified and round-tripped', async () => {
  for (const [defaultAction, rules] of [
    [
      'kill_process',
      [
        '  - {syscalls: [read, write], action: allow, reason: io}',
        '  - {syscalls: [openat], action: log, reason: watch}',
      ],
    ],
    [
      'log',
      [
        '  - {syscalls: [read, write], action: allow, reason: io}',
        '  - {syscalls: [ptrace], action: errno(EPERM), reason: no}',
      ],
    ],
    ['log', ['  - {syscalls: [ptrace], action: kill_process, reason: no}']],
  ] as const) {
    const text = [
      'name: d',
      'architectures: [x86_64, x32, i386]',
      `defaultAction: ${defaultAction}`,
      `unknownAction: ${defaultAction}`,
      'badArchAction: kill_thread',
      'rules:',
      ...rules,
      '',
    ].join('\n');
    const policy = await parsePolicyText(text, 'd.yaml');
    const exported = exportSystemd(policy, { arch: 'x86_64' });
    assertSystemdAccepts(exported.text);
    assertNoDiff(policy, importSystemd([{ file: 'd.conf', text: exported.text }], { arch: 'x86_64' }).policy);
  }
});

test('a policy name with line breaks cannot add directives to the drop-in (imported names included)', async () => {
  const { importFirecracker } = await import('../../src/formats/firecracker-import.js');
  const hostile = 'vmm\n[Service]\nExecStartPre=/bin/sh -c id\u2028#';
  const json = JSON.stringify({
    [hostile]: { default_action: { errno: 1 }, filter_action: 'allow', filter: [{ syscall: 'read' }] },
  });
  const [thread] = importFirecracker(json, 'hostile.json', { arch: 'x86_64' }).threads;
  assert.ok(thread !== undefined);
  const { text } = exportSystemd(thread.policy);
  assert.equal(text.split('\n').filter((line) => line === '[Service]').length, 1);
  assert.doesNotMatch(text, /^ExecStartPre=/m);
  assert.doesNotMatch(text, /\u2028/);
  await assert.rejects(
    parsePolicyText(
      'name: "app\\nExecStartPre=x"\narchitectures: [x86_64]\ndefaultAction: allow\nrules: []\n',
      'n.yaml',
    ),
    (error: unknown) =>
      error instanceof PolicyError && /name must not contain control characters/.test(error.message),
  );
});
