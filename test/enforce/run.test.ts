/**
 * `sysfence run` on this machine's kernel: the filter's decisions reach the workload, kills take the
 * whole process, children inherit the filter, foreign ABIs are refused, exit statuses pass through, and
 * bad input stops before anything runs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { syscallNumber } from '../../src/syscalls/arch.js';
import {
  CLI_ENTRY,
  REPO,
  callResult,
  describe,
  policyYaml,
  runUnder,
  scratchDir,
  sysfence,
  workload,
  writePolicy,
} from './support.js';

const SIGSYS_EXIT = 128 + 31;
const EXDEV = 18;
const GETPPID = syscallNumber('x86_64', 'getppid') as number;
const GETPID = syscallNumber('x86_64', 'getpid') as number;
const I386_GETPID = syscallNumber('i386', 'getpid') as number;

function rule(syscalls: string, action: string): string {
  return `  - syscalls: [${syscalls}]\n    action: ${action}\n    reason: test`;
}

test('a denied syscall returns the configured errno; others run', () => {
  const policy = writePolicy(policyYaml({ rules: rule('getppid', 'errno(EXDEV)') }));
  const denied = runUnder(policy, [workload(), 'syscall', String(GETPPID)]);
  assert.equal(denied.status, 0, describe(denied));
  assert.deepEqual(callResult(denied.stdout), { ret: -1, errno: EXDEV });
  const allowed = runUnder(policy, [workload(), 'syscall', String(GETPID)]);
  assert.ok(callResult(allowed.stdout).ret > 0, describe(allowed));
});

test('kill_process kills the whole multi-threaded process with SIGSYS; kill_thread only the caller', () => {
  const killProcess = runUnder(writePolicy(policyYaml({ rules: rule('getppid', 'kill_process') })), [
    workload(),
    'threads',
    String(GETPPID),
  ]);
  assert.equal(killProcess.status, SIGSYS_EXIT, describe(killProcess));
  assert.doesNotMatch(killProcess.stdout, /survived/);
  // The contrast shows the test can tell the two apart: the other threads live on after kill_thread.
  const killThread = runUnder(writePolicy(policyYaml({ rules: rule('getppid', 'kill_thread') })), [
    workload(),
    'threads',
    String(GETPPID),
  ]);
  assert.match(killThread.stdout, /survived/, describe(killThread));
});

test('a grandchild inherits the filter', () => {
  const policy = writePolicy(policyYaml({ rules: rule('getppid', 'errno(EXDEV)') }));
  const result = runUnder(policy, [workload(), 'grandchild', String(GETPPID)]);
  assert.equal(result.status, 0, describe(result));
  assert.deepEqual(callResult(result.stdout), { ret: -1, errno: EXDEV });
});

test('an x32-numbered syscall and an i386 int 0x80 syscall are refused when the policy lists only x86_64', () => {
  // Unconfined first: this kernel answers x32 with ENOSYS (no CONFIG_X86_X32_ABI) and runs int 0x80.
  const bareX32 = spawnSync(workload(), ['x32', String(GETPID)], { encoding: 'utf8' });
  assert.deepEqual(callResult(bareX32.stdout), { ret: -1, errno: 38 });
  const bareInt80 = spawnSync(workload(), ['int80', String(I386_GETPID)], { encoding: 'utf8' });
  assert.ok(callResult(bareInt80.stdout).ret > 0, 'ia32 emulation must be on for this test');

  const policy = writePolicy(policyYaml({ badArchAction: 'kill_process' }));
  const x32 = runUnder(policy, [workload(), 'x32', String(GETPID)]);
  assert.equal(x32.status, SIGSYS_EXIT, describe(x32));
  const int80 = runUnder(policy, [workload(), 'int80', String(I386_GETPID)]);
  assert.equal(int80.status, SIGSYS_EXIT, describe(int80));

  const errnoPolicy = writePolicy(policyYaml({ badArchAction: 'errno(EXDEV)' }));
  const int80Errno = runUnder(errnoPolicy, [workload(), 'int80', String(I386_GETPID)]);
  assert.deepEqual(callResult(int80Errno.stdout), { ret: -1, errno: EXDEV }, describe(int80Errno));
});

test('exit status, fatal signals and output pass through; stdio is blocking and inherited', () => {
  const policy = writePolicy(policyYaml({}));
  const exited = runUnder(policy, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.equal(exited.status, 7);
  assert.equal(exited.stdout, 'out\n');
  assert.equal(exited.stderr, 'err\n');
  const signaled = runUnder(policy, ['sh', '-c', 'kill -TERM $$']);
  assert.equal(signaled.status, 128 + 15, describe(signaled));
  assert.equal(signaled.stderr, '', 'run prints nothing of its own for a signal');
  const stdio = runUnder(policy, [workload(), 'stdio']);
  assert.equal(
    stdio.stdout,
    'fd0=blocking,inherit\nfd1=blocking,inherit\nfd2=blocking,inherit\n',
    describe(stdio),
  );
  const stdin = runUnder(policy, ['cat'], []);
  assert.equal(stdin.status, 0);
});

test('stdin reaches the workload', () => {
  const result = sysfence(['run', '--policy', writePolicy(policyYaml({})), '--', 'cat'], {
    input: 'hello through\n',
  });
  assert.equal(result.stdout, 'hello through\n', describe(result));
});

test('the launcher exec passes a policy that denies execve; the workload cannot exec again', () => {
  const policy = writePolicy(policyYaml({ rules: rule('execve, execveat', 'errno(EPERM)') }));
  const result = runUnder(policy, ['sh', '-c', 'echo started; /bin/true && echo exec-worked']);
  assert.match(result.stdout, /started/, describe(result));
  assert.doesNotMatch(result.stdout, /exec-worked/);
  assert.match(result.stderr, /Operation not permitted/);
});

test('an execve that fails in the launcher is reported, with the shell convention 127', () => {
  const script = join(scratchDir(), 'bad-interpreter');
  writeFileSync(script, '#!/no/such/interpreter\n', { mode: 0o755 });
  const result = runUnder(writePolicy(policyYaml({})), [script]);
  assert.equal(result.status, 127, describe(result));
  assert.match(result.stderr, /sysfence: error: cannot execute .*bad-interpreter: ENOENT/);
});

test('SIGTERM sent to run reaches the workload', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_ENTRY, 'run', '--policy', writePolicy(policyYaml({})), '--', 'sleep', '30'],
    {
      cwd: REPO,
      stdio: 'ignore',
    },
  );
  await sleep(1500);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  assert.equal(code, 128 + 15);
});

function markerCommand(name: string): { readonly path: string; readonly command: readonly string[] } {
  const path = join(scratchDir(), `marker-${name}`);
  return { path, command: ['touch', path] };
}

test('bad input fails with a clear error and non-zero status before anything runs', async (t) => {
  await t.test('a command that is not on PATH', () => {
    const result = runUnder(writePolicy(policyYaml({})), ['no-such-command-sysfence']);
    assert.equal(result.status, 2, describe(result));
    assert.match(result.stderr, /no-such-command-sysfence: command not found/);
  });
  await t.test('a policy that fails to compile', () => {
    const marker = markerCommand('compile');
    const result = runUnder(
      writePolicy(policyYaml({ rules: rule('no_such_syscall', 'allow') })),
      marker.command,
    );
    assert.equal(result.status, 2, describe(result));
    assert.match(result.stderr, /no_such_syscall/);
    assert.equal(existsSync(marker.path), false);
  });
  await t.test('a Landlock path that does not exist', () => {
    const marker = markerCommand('landlock');
    const extra = 'filesystem:\n  read: [/usr, /no/such/dir]\n  write: []\n  execute: [/usr]';
    const result = runUnder(writePolicy(policyYaml({ extra })), marker.command);
    assert.equal(result.status, 2, describe(result));
    assert.match(result.stderr, /\/no\/such\/dir/);
    assert.equal(existsSync(marker.path), false);
  });
  await t.test('a Landlock ABI newer than the kernel is required', () => {
    const marker = markerCommand('abi');
    const result = runUnder(writePolicy(policyYaml({})), marker.command, ['--require-landlock-abi', '99']);
    assert.equal(result.status, 2, describe(result));
    assert.match(result.stderr, /require-landlock-abi 99: this kernel has Landlock ABI \d+/);
    assert.equal(existsSync(marker.path), false);
  });
  await t.test('a missing policy file, a bad mode, and no command', () => {
    assert.equal(runUnder(join(scratchDir(), 'absent.yaml'), ['true']).status, 2);
    const policy = writePolicy(policyYaml({}));
    const badMode = runUnder(policy, ['true'], ['--mode', 'audit']);
    assert.equal(badMode.status, 2);
    assert.match(badMode.stderr, /unknown mode 'audit'/);
    const noCommand = sysfence(['run', '--policy', policy]);
    assert.equal(noCommand.status, 2);
    assert.match(noCommand.stderr, /missing COMMAND/);
  });
  await t.test('a policy that runs fine starts the command (the marker test can fail)', () => {
    const marker = markerCommand('control');
    const result = runUnder(writePolicy(policyYaml({})), marker.command);
    assert.equal(result.status, 0, describe(result));
    assert.equal(existsSync(marker.path), true);
  });
});
