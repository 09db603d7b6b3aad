import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { parseDuration } from '../../src/cli/commands/record.js';
import { readTrace, type Trace } from '../../src/learn/trace.js';
import { PYTHON_EXE, SH_EXE, WORKLOAD } from '../sources/recording-workload.js';

async function cli(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

function entry(trace: Trace, exe: string, syscall: string): Trace['entries'] {
  return trace.entries.filter((e) => e.exe === exe && e.syscall === syscall);
}

for (const via of ['ebpf', 'strace']) {
  test(`sysfence record --via ${via} -- COMMAND writes a trace and passes the exit status on`, async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sysfence-record-'));
    try {
      const output = join(directory, 'trace.json');
      const result = await cli(['record', '--via', via, '-o', output, '--', ...WORKLOAD]);
      assert.equal(result.code, 3, result.stderr);
      assert.match(
        result.stdout,
        /^recorded \d+ calls of \d+ syscalls by 3 executables \(\d+ trace entries\); trace written to /,
      );
      const trace = await readTrace(output);
      assert.deepEqual(trace.sources, [via]);
      assert.deepEqual(
        entry(trace, PYTHON_EXE, 'socket').map((e) => [e.args, e.count]),
        [[[{ index: 0, value: '0xa' }], 1]],
      );
      // The child's exec of sh only: the command's own start is the launcher's, not counted.
      assert.equal(entry(trace, PYTHON_EXE, 'execve')[0]?.count, 1);
      assert.ok(
        entry(trace, '/usr/bin/true', 'execve').length === 0 && entry(trace, SH_EXE, 'execve').length === 1,
      );
      assert.ok(trace.start > 0 && trace.end >= trace.start);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
}

test('record usage errors exit 2 and start nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['record'], /nothing to record/],
    [['record', '--pid', 'x'], /--pid needs a process id/],
    [['record', '--pid', '1', '--', '/bin/true'], /name one workload/],
    [['record', '--via', 'strace', '--pid', '1'], /--via strace records a command only/],
    [['record', '--via', 'dtrace', '--', '/bin/true'], /--via takes ebpf or strace/],
    [['record', '--duration', '10', '--', '/bin/true'], /a command is recorded until it exits/],
    [['record', '--duration', 'soon'], /--duration needs a positive duration/],
    [['record', '/bin/true'], /put the command after '--'/],
    [['record', '--container', 'xyz'], /12 to 64 lower-case hex digits/],
  ];
  for (const [argv, message] of cases) {
    const result = await cli(argv);
    assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test('durations', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('0s'));
  assert.throws(() => parseDuration('-1s'));
});

function unifiedCgroupRoot(): string {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    if (existsSync(join(root, 'cgroup.controllers'))) return root;
  }
  throw new Error('no cgroup v2 hierarchy mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)');
}

test('sysfence record --container ID (short prefix) --duration records the container and labels the calls', async () => {
  const id = randomBytes(32).toString('hex');
  const slice = join(unifiedCgroupRoot(), 'system.slice');
  const createdSlice = !existsSync(slice);
  const scope = join(slice, `docker-${id}.scope`);
  await mkdir(scope, { recursive: true });
  const directory = await mkdtemp(join(tmpdir(), 'sysfence-record-'));
  const container = spawn('/usr/bin/sh', ['-c', 'read go; while :; do /usr/bin/true; sleep 0.05; done'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  try {
    await writeFile(join(scope, 'cgroup.procs'), `${container.pid}\n`);
    container.stdin!.end('go\n');
    const output = join(directory, 'trace.json');
    const result = await cli(['record', '--container', id.slice(0, 12), '--duration', '1s', '-o', output]);
    assert.equal(result.code, 0, result.stderr);
    const trace = await readTrace(output);
    const calls =
      entry(trace, '/usr/bin/true', 'execve').length + entry(trace, '/usr/bin/true', 'exit_group').length;
    assert.ok(calls > 0, JSON.stringify(trace.entries.map((e) => e.exe)));
    assert.ok(trace.entries.every((e) => e.containers.length === 1 && e.containers[0] === id));
  } finally {
    container.kill('SIGKILL');
    await sleep(100);
    await rmdir(scope);
    if (createdSlice) await rmdir(slice);
    await rm(directory, { recursive: true, force: true });
  }
});

test('sysfence record --duration alone records the host, bpftrace excepted', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'sysfence-record-'));
  const loop = spawn('/usr/bin/sh', ['-c', 'while :; do /usr/bin/true; sleep 0.05; done'], {
    stdio: 'ignore',
  });
  try {
    const output = join(directory, 'trace.json');
    const result = await cli(['record', '--duration', '700ms', '-o', output]);
    assert.equal(result.code, 0, result.stderr);
    const trace = await readTrace(output);
    assert.equal(entry(trace, '/usr/bin/true', 'exit_group').length, 1);
    assert.ok(!trace.entries.some((e) => e.exe.endsWith('/bpftrace')));
  } finally {
    loop.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
  }
});
