import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditKeys, exportAuditRules, MAX_RULE_LINE } from '../../src/formats/auditd.js';
import { PolicyError } from '../../src/policy/errors.js';
import { loadPolicy } from '../../src/policy/load.js';
import { syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import { runTool, type ToolRun } from './apparmor-auditd-tool.js';
import { craftedPolicy, craftedRule } from './support.js';

const WORK = mkdtempSync(join(tmpdir(), 'sysfence-auditd-'));
/** A key prefix of this run, so the test never touches rules anyone else loaded. */
const KEY = `sftest${process.pid}`;
const ABI_OF_WORD: Readonly<Record<string, Arch>> = { b64: 'x86_64', b32: 'i386' };

function auditctl(args: readonly string[]): ToolRun {
  return runTool('auditctl', args, 'auditd');
}

function loadRules(text: string): ToolRun {
  const file = join(WORK, `rules-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return auditctl(['-R', file]);
}

/** Removes every rule of this run's keys, so the machine is left as found. */
function removeRules(): void {
  for (const key of auditKeys(KEY)) auditctl(['-D', '-k', key]);
}

function loadedRules(): string[] {
  const listing = auditctl(['-l']);
  assert.equal(listing.status, 0, listing.stderr);
  return listing.stdout.split('\n').filter((line) => line.includes(`key=${KEY}-`));
}

function ruleLines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('-a '));
}

/** "arch|key|fields" → the syscall numbers of the rules with that signature (names mapped back via the ABI's table). */
function signatures(lines: readonly string[]): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const line of lines) {
    const word = /-F arch=(b64|b32)/.exec(line)?.[1] ?? '?';
    const key = /(?:-k |-F key=)(\S+)/.exec(line)?.[1] ?? '?';
    const a0 = String(Number(/-F a0=(\S+)/.exec(line)?.[1] ?? 'NaN'));
    const list = /-S (\S+)/.exec(line)?.[1] ?? '';
    const arch = ABI_OF_WORD[word] ?? 'x86_64';
    const numbers = list.split(',').map((item) => {
      if (item === 'all' || /^\d+$/.test(item)) return item;
      const nr = syscallNumber(arch, item);
      assert.notEqual(nr, undefined, `auditctl listed ${item}, unknown on ${arch}`);
      return String(nr);
    });
    const id = `${word}|${key}|${a0}`;
    result.set(id, new Set([...(result.get(id) ?? []), ...numbers]));
  }
  return result;
}

function unlisted(text: string, word: 'b64' | 'b32'): string[] {
  const line = ruleLines(text).find((l) => l.includes(`arch=${word}`) && l.includes('-unlisted'));
  assert.ok(line !== undefined, `no ${word} unlisted rule`);
  return (/-S (\S+)/.exec(line)?.[1] ?? '').split(',');
}

function numbersOf(arch: Arch, names: readonly string[]): string[] {
  return names.map((name) => String(syscallNumber(arch, name)));
}

test('auditd is running here (the load tests need it)', () => {
  const status = auditctl(['-s']);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /^enabled [12]$/m, 'audit is disabled: scripts/setup.sh starts auditd');
});

test('the web example loads into the kernel with auditctl, lists back identically, and is removed by key', async () => {
  const policy = await loadPolicy('examples/web/exceptions.yaml');
  const { text } = exportAuditRules(policy, { key: KEY });
  removeRules();
  try {
    const load = loadRules(text);
    assert.equal(load.status, 0, `auditctl -R failed:\n${load.stderr}`);
    const listed = loadedRules();
    assert.equal(listed.length, ruleLines(text).length, listed.join('\n'));
    assert.deepEqual(signatures(listed), signatures(ruleLines(text)));
  } finally {
    removeRules();
  }
  assert.deepEqual(loadedRules(), []);
});

test('auditctl rejects a malformed rule, so the load check can fail', () => {
  const { text } = exportAuditRules(craftedPolicy([]), { key: KEY });
  for (const broken of [
    text.replace('-F arch=b64', '-F arch=b65'),
    `${text}-a always,exit -F arch=b64 -S nosuchcall -k ${KEY}-time\n`,
  ]) {
    removeRules();
    try {
      assert.notEqual(loadRules(broken).status, 0);
    } finally {
      removeRules();
    }
  }
});

test('the whitelist: unconditional allows are left out, everything else is recorded', async () => {
  const policy = await loadPolicy('examples/web/exceptions.yaml');
  const { text, warnings } = exportAuditRules(policy, { key: KEY });
  const b64 = unlisted(text, 'b64');
  for (const allowed of numbersOf('x86_64', [
    'read',
    'write',
    'openat',
    'mmap',
    'execve',
    'accept4',
    'inotify_init1',
  ]))
    assert.ok(!b64.includes(allowed), `allowed syscall ${allowed} is recorded`);
  for (const outside of numbersOf('x86_64', [
    'ptrace',
    'mount',
    'socket',
    'clone',
    'clone3',
    'personality',
    'bpf',
  ]))
    assert.ok(b64.includes(outside), `syscall ${outside} outside the whitelist is not recorded`);
  // The policy lists x86_64 only: i386 calls all get badArchAction, so all are recorded.
  assert.deepEqual(unlisted(text, 'b32'), ['all']);
  assert.ok(
    warnings.some(
      (w) =>
        w.startsWith("rule of layer 'web'") && w.includes('socket allowed only under argument conditions'),
    ),
  );
  assert.ok(warnings.some((w) => w.startsWith("rule of layer 'exceptions-eu'") && w.includes('personality')));
  assert.ok(warnings.some((w) => w.startsWith('x32 syscalls cannot be audited')));
});

test('specific rules come before the catch-all, keyed per set', () => {
  const { text } = exportAuditRules(craftedPolicy([craftedRule(['read'], { kind: 'allow' })]), { key: KEY });
  const keys = ruleLines(text).map((line) => /-k (\S+)$/.exec(line)?.[1]);
  const firstUnlisted = keys.indexOf(`${KEY}-unlisted`);
  assert.ok(firstUnlisted > 0);
  assert.ok(keys.slice(0, firstUnlisted).every((key) => key !== `${KEY}-unlisted`));
  assert.ok(keys.slice(firstUnlisted).every((key) => key === `${KEY}-unlisted`));
  assert.match(text, new RegExp(`^-a always,exit -F arch=b64 -S 101 -F a0=0x4206 -k ${KEY}-ptrace$`, 'm'));
  assert.match(
    text,
    new RegExp(`^-a always,exit -F arch=b32 -S [0-9,]*\\b25\\b[0-9,]* -k ${KEY}-time$`, 'm'),
  );
  assert.match(text, new RegExp(`^-a always,exit -F arch=b64 -S 175,313,176 -k ${KEY}-module$`, 'm'));
});

test('conditional, tolerated and default-allow policies', () => {
  const eqAfInet = [{ index: 0, op: 'eq', value: 2n, width: 32 }] as const;
  const tolerated = craftedRule(
    ['getcpu'],
    { kind: 'allow' },
    { tier: 'tolerated', location: { file: 'crafted.yaml', line: 9, column: 5 } },
  );
  const unameEverywhere = [
    craftedRule(['uname'], { kind: 'allow' }, { conditions: [{ index: 0, op: 'ne', value: 0n, width: 64 }] }),
    craftedRule(['uname'], { kind: 'allow' }),
  ];
  const denyList = craftedPolicy(
    [
      tolerated,
      ...unameEverywhere,
      craftedRule(['mount'], { kind: 'errno', errno: 1 }),
      craftedRule(['socket'], { kind: 'errno', errno: 1 }, { conditions: [...eqAfInet] }),
    ],
    { defaultAction: { kind: 'allow' } },
  );
  const denied = exportAuditRules(denyList, { key: KEY });
  // Default allow: uname is allowed under every condition; socket is denied under one, mount always,
  // getcpu only tolerated.
  assert.deepEqual(
    new Set(unlisted(denied.text, 'b64')),
    new Set(numbersOf('x86_64', ['getcpu', 'mount', 'socket'])),
  );
  assert.ok(
    denied.warnings.some((w) =>
      w.startsWith("rule of layer 'crafted' (crafted.yaml:9:5): getcpu allowed only as tolerated"),
    ),
  );

  const allowList = craftedPolicy([
    craftedRule(['socket'], { kind: 'allow' }, { conditions: [...eqAfInet] }),
  ]);
  const allowed = exportAuditRules(allowList, { key: KEY });
  assert.ok(unlisted(allowed.text, 'b64').includes(String(syscallNumber('x86_64', 'socket'))));
  assert.ok(
    allowed.warnings.includes(
      `rule of layer 'crafted' (crafted.yaml:7:5): socket allowed only under argument conditions on x86_64; every call is recorded under ${KEY}-unlisted (audit cannot compare arguments as seccomp does; recording more is the safe side)`,
    ),
  );
});

test("every line stays below auditctl's line limit; a long exe splits the catch-all into several rules", () => {
  const exe = `/opt/${'x'.repeat(3000)}/app`;
  const { text } = exportAuditRules(craftedPolicy([]), { key: KEY, exe });
  for (const line of text.split('\n')) assert.ok(line.length <= MAX_RULE_LINE, `line of ${line.length}`);
  const b64 = ruleLines(text).filter((l) => l.includes('arch=b64') && l.includes('-unlisted'));
  assert.ok(b64.length > 1);
  assert.ok(b64.every((l) => l.includes(`-F exe=${exe} -k ${KEY}-unlisted`)));
  const recorded = b64.flatMap((l) => (/-S (\S+)/.exec(l)?.[1] ?? '').split(','));
  assert.equal(new Set(recorded).size, recorded.length);
  assert.ok(recorded.includes('0') && recorded.includes(String(syscallNumber('x86_64', 'mseal'))));
});

test('an aarch64 policy gets b64 and b32 (arm compat) rules, and no x32 warning', () => {
  const { text, warnings } = exportAuditRules(craftedPolicy([], { architectures: ['aarch64', 'arm'] }), {
    key: KEY,
  });
  assert.match(text, /arch=b64/);
  assert.match(text, /arch=b32/);
  assert.ok(!warnings.some((w) => w.includes('x32')));
});

test('bad keys, exe paths and multi-kernel policies are refused', () => {
  assert.throws(() => exportAuditRules(craftedPolicy([]), { key: 'a b' }), PolicyError);
  assert.throws(() => exportAuditRules(craftedPolicy([]), { key: '' }), PolicyError);
  assert.throws(() => exportAuditRules(craftedPolicy([]), { exe: '/usr/bin/my app' }), PolicyError);
  assert.throws(() => exportAuditRules(craftedPolicy([]), { exe: 'relative' }), PolicyError);
  const twoKernels = craftedPolicy([], { architectures: ['x86_64', 'aarch64'] });
  assert.throws(() => exportAuditRules(twoKernels), /one kernel/);
  const chosen = exportAuditRules(twoKernels, { kernel: 'aarch64', key: KEY });
  assert.ok(chosen.warnings.some((w) => w.startsWith('ABIs x86_64 run on other kernels')));
});

test('a multi-line policy name cannot break out of the comment', () => {
  const { text } = exportAuditRules(craftedPolicy([], { name: 'x\n-a always,exit -S all -k evil' }), {
    key: KEY,
  });
  assert.ok(!text.includes('\n-a always,exit -S all -k evil'));
});

test('rules scoped to one executable load, and every rule carries the exe field', () => {
  const { text } = exportAuditRules(craftedPolicy([craftedRule(['read'], { kind: 'allow' })]), {
    key: KEY,
    exe: '/usr/bin/true',
  });
  removeRules();
  try {
    const load = loadRules(text);
    assert.equal(load.status, 0, load.stderr);
    const listed = loadedRules();
    assert.equal(listed.length, ruleLines(text).length);
    assert.ok(
      listed.every((line) => line.includes('-F exe=/usr/bin/true')),
      listed.join('\n'),
    );
  } finally {
    removeRules();
  }
});

test('every bundled example layer exports rules within the line limit, keyed per set', async () => {
  for (const layer of ['base', 'web', 'region-eu', 'exceptions']) {
    const { text } = exportAuditRules(await loadPolicy(`examples/web/${layer}.yaml`), { key: KEY });
    const keys = new Set(ruleLines(text).map((line) => /-k (\S+)$/.exec(line)?.[1]));
    assert.deepEqual(keys, new Set(auditKeys(KEY)), layer);
    for (const line of text.split('\n')) assert.ok(line.length <= MAX_RULE_LINE, layer);
  }
});
