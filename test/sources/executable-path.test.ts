import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  resolveExecutable,
  sharesMountNamespace,
  shebangInterpreter,
  withResolvedExecutables,
} from '../../src/sources/executable-path.js';

test('#! lines name the interpreter as the kernel reads it; other files have none', () => {
  assert.equal(shebangInterpreter(Buffer.from('#!/bin/sh -e\necho')), '/bin/sh');
  assert.equal(shebangInterpreter(Buffer.from('#! \t/usr/bin/env python3\n')), '/usr/bin/env');
  assert.equal(shebangInterpreter(Buffer.from('#!\n')), undefined);
  assert.equal(shebangInterpreter(Buffer.from('\x7fELF\x02\x01')), undefined);
  assert.equal(shebangInterpreter(Buffer.from('')), undefined);
});

test('paths resolve to the file the kernel runs: links followed, scripts replaced by their interpreter', async () => {
  const directory = realpathSync(await mkdtemp(join(tmpdir(), 'sysfence-exe-')));
  try {
    const dash = realpathSync('/usr/bin/sh');
    await symlink('/usr/bin/sh', join(directory, 'shell'));
    await writeFile(join(directory, 'run.sh'), '#!/usr/bin/sh\nexit 0\n');
    await writeFile(join(directory, 'nested'), `#!${join(directory, 'run.sh')}\n`);
    await chmod(join(directory, 'run.sh'), 0o755);
    assert.notEqual(dash, '/usr/bin/sh', 'this host has no link to test with');
    assert.equal(await resolveExecutable(join(directory, 'shell')), dash);
    assert.equal(await resolveExecutable(join(directory, 'run.sh')), dash);
    assert.equal(await resolveExecutable(join(directory, 'nested')), dash);
    assert.equal(await resolveExecutable('/usr/bin/true'), '/usr/bin/true');
    // Relative: against the cwd when it is known, else as given; a file that is gone stays as given.
    assert.equal(await resolveExecutable('./shell', directory), dash);
    assert.equal(await resolveExecutable('./shell'), './shell');
    assert.equal(await resolveExecutable('/nonexistent/deleted'), '/nonexistent/deleted');
    const events = await withResolvedExecutables(
      [{ pid: 1, exe: join(directory, 'shell') }, { pid: 2, exe: 'shell' }, { pid: 3 }],
      (event) => (event.pid === 2 ? directory : undefined),
    );
    assert.deepEqual(events, [{ pid: 1, exe: dash }, { pid: 2, exe: dash }, { pid: 3 }]);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('mount namespaces: ours is shared; another one, or a gone pid, is not', async () => {
  assert.equal(await sharesMountNamespace(process.pid), true);
  assert.equal(await sharesMountNamespace(2 ** 22 + 1), false);
  const other = spawn('/usr/bin/unshare', ['--mount', '/usr/bin/sleep', '10'], { stdio: 'ignore' });
  try {
    // unshare execs sleep once it is in its own namespace.
    while ((await readlink(`/proc/${other.pid}/exe`).catch(() => '')) !== '/usr/bin/sleep') await sleep(20);
    assert.equal(await sharesMountNamespace(other.pid!), false);
  } finally {
    other.kill('SIGKILL');
  }
});
