import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportAppArmor } from '../../src/formats/apparmor.js';
import { PolicyError } from '../../src/policy/errors.js';
import type { FilesystemRules, NetworkRules, ResolvedPolicy } from '../../src/policy/ir.js';
import { loadPolicy } from '../../src/policy/load.js';
import { runTool, type ToolRun } from './apparmor-auditd-tool.js';
import { craftedPolicy } from './support.js';

const WORK = mkdtempSync(join(tmpdir(), 'sysfence-apparmor-'));

/** Compiles a profile with the real parser, never loading it into the kernel (-Q) or the cache (-K). */
function parseProfile(text: string, extraArgs: readonly string[] = []): ToolRun {
  const file = join(WORK, `profile-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return runTool('apparmor_parser', ['-Q', '-K', ...extraArgs, file], 'apparmor');
}

function assertAccepted(text: string): void {
  const run = parseProfile(text);
  assert.equal(run.status, 0, `apparmor_parser rejected the profile:\n${run.stderr}\n${text}`);
}

/** The `aare: PATTERN -> REGEX` lines apparmor_parser prints for the rules it compiled. */
function compiledPatterns(text: string): string[] {
  const run = parseProfile(text, ['-D', 'rule-exprs']);
  assert.equal(run.status, 0, run.stderr);
  return `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('aare: '))
    .map((line) => line.slice('aare: '.length));
}

function policyWith(filesystem?: FilesystemRules, network?: NetworkRules): ResolvedPolicy {
  return craftedPolicy([], {
    ...(filesystem === undefined ? {} : { filesystem }),
    ...(network === undefined ? {} : { network }),
  });
}

function files(read: string[], write: string[] = [], execute: string[] = []): FilesystemRules {
  return { read, write, execute };
}

function exportError(policy: ResolvedPolicy, attachment?: string): PolicyError {
  try {
    exportAppArmor(policy, { profileName: 'p', ...(attachment === undefined ? {} : { attachment }) });
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  assert.fail('expected a PolicyError');
}

test('the bundled web example exports to a profile apparmor_parser compiles', async () => {
  const policy = await loadPolicy('examples/web/exceptions.yaml');
  const { text, warnings } = exportAppArmor(policy, { profileName: 'web', attachment: '/usr/sbin/web-app' });
  assertAccepted(text);
  assert.match(text, /^profile web "\/usr\/sbin\/web-app" \{$/m);
  assert.match(text, /^ {2}include <abstractions\/base>$/m);
  assert.match(text, /^ {2}"\/usr\{,\/\*\*\}" r,$/m);
  assert.match(text, /^ {2}"\/tmp\{,\/\*\*\}" wkl,$/m);
  assert.match(text, /^ {2}"\/usr\/bin\{,\/\*\*\}" rmix,$/m);
  assert.match(text, /^ {2}network inet stream,$/m);
  assert.doesNotMatch(text, /\bux\b|\bUx\b|^\s*file,|^\s*network,/m);
  assert.ok(warnings.some((w) => w.startsWith('network.bindTcp 8080:') && w.includes('Landlock')));
  assert.ok(warnings.some((w) => w.startsWith('filesystem.read /proc/self:')));
  assert.ok(warnings.some((w) => w.includes('abstractions/base')));
});

test('the parser rejects a broken profile, so the acceptance check can fail', () => {
  const { text } = exportAppArmor(policyWith(files(['/srv'])), { profileName: 'p' });
  const broken = text.replace('"/srv{,/**}" r,', '"/srv{,/**}" rq,');
  assert.notEqual(broken, text);
  assert.notEqual(parseProfile(broken).status, 0);
  assert.notEqual(parseProfile(text.replace(/\}\n$/, '\n')).status, 0);
});

test('a profile grants only what the sections name: no network and no files without them', () => {
  const { text, warnings } = exportAppArmor(policyWith(), { profileName: 'bare' });
  assertAccepted(text);
  assert.doesNotMatch(text, /^\s*(network|".*") /m);
  assert.ok(warnings.some((w) => w.includes('no filesystem section')));
  assert.ok(warnings.some((w) => w.includes('no network section')));
  const noPorts = exportAppArmor(policyWith(files([]), { bindTcp: [], connectTcp: [] }), {
    profileName: 'n',
  });
  assert.doesNotMatch(noPorts.text, /network inet/);
});

test('glob characters in paths are escaped: apparmor_parser compiles them as literals', () => {
  const hostile = [
    '/srv/a**b',
    '/srv/{x,y}',
    '/srv/[ab]',
    '/srv/@{HOME}',
    '/srv/sp ace',
    '/srv/q"uote',
    '/srv/back\\slash',
  ];
  const { text } = exportAppArmor(policyWith(files(hostile)), { profileName: 'hostile' });
  assertAccepted(text);
  const patterns = compiledPatterns(text);
  // Each path becomes "<escaped>{,/**}" whose only glob is the trailing beneath-part.
  for (const expected of [
    '/srv/a\\*\\*b{,/**}',
    '/srv/\\{x,y\\}{,/**}',
    '/srv/\\[ab\\]{,/**}',
    '/srv/@\\{HOME\\}{,/**}',
    '/srv/sp ace{,/**}',
    '/srv/q"uote{,/**}',
    '/srv/back\\\\slash{,/**}',
  ]) {
    assert.ok(
      patterns.some((line) => line.startsWith(`${expected} `)),
      `${expected} not among:\n${patterns.join('\n')}`,
    );
  }
  // The regex it compiled keeps the stars literal (escaped), not [^/]* wildcards.
  assert.ok(
    patterns.some((line) => line.includes('->   /srv/a\\*\\*b(|/[^\\x00]*)')),
    patterns.join('\n'),
  );
});

test('paths that cannot be written literally are refused with the list named', () => {
  assert.match(
    exportError(policyWith(files(['/srv/a?b']))).message,
    /filesystem\.read path "\/srv\/a\?b".*'\?'/,
  );
  assert.match(
    exportError(policyWith(files([], ['/srv/a\nb']))).message,
    /filesystem\.write path.*control character/,
  );
  assert.match(exportError(policyWith(files([], [], ['/srv/^x']))).message, /filesystem\.execute path.*'\^'/);
  assert.match(exportError(policyWith(files(['/srv/../etc']))).message, /'\.\.'/);
  assert.match(exportError(policyWith(files(['relative']))).message, /absolute/);
  assert.match(exportError(policyWith(), '/usr/bin/a?').message, /^error: attachment "\/usr\/bin\/a\?"/);
});

test('an attachment with glob characters is escaped, and a bad profile name is refused', () => {
  const { text } = exportAppArmor(policyWith(), { profileName: 'p', attachment: '/opt/my app/bin*' });
  assert.match(text, /^profile p "\/opt\/my app\/bin\\\*" \{$/m);
  assertAccepted(text);
  assert.throws(() => exportAppArmor(policyWith(), { profileName: 'a b {' }), PolicyError);
  assert.throws(() => exportAppArmor(policyWith(), { profileName: '' }), PolicyError);
});

test('the root directory becomes "/{,**}"', () => {
  const { text } = exportAppArmor(policyWith(files(['/'])), { profileName: 'root' });
  assert.match(text, /^ {2}"\/\{,\*\*\}" r,$/m);
  assertAccepted(text);
});

test('a missing tool fails with its install hint', () => {
  assert.throws(
    () => runTool('sysfence-no-such-tool', [], 'apparmor'),
    /not installed: apt-get install -y apparmor/,
  );
});

test('every bundled example layer exports to a profile the parser compiles', async () => {
  for (const layer of ['base', 'web', 'region-eu', 'exceptions']) {
    const policy = await loadPolicy(`examples/web/${layer}.yaml`);
    assertAccepted(exportAppArmor(policy, { profileName: `sysfence-${layer}` }).text);
  }
});
