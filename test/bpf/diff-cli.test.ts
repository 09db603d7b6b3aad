/** `sysfence diff` through main(): text and JSON output, exit codes, and a YAML policy against OCI JSON. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/lint/', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function diff(a: string, b: string, ...options: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['diff', `${FIXTURES}${a}`, `${FIXTURES}${b}`, '--arch', 'x86_64', ...options], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

test('text output names each ABI, syscall and argument range whose action changed; exit 1', async () => {
  const run = await diff('diff-a.yaml', 'diff-b.yaml');
  assert.equal(run.code, 1);
  assert.equal(
    run.stdout,
    'x86_64 socket(arg0=16): allow -> errno(EAFNOSUPPORT)\nx86_64 ptrace: errno(EPERM) -> kill_process\n',
  );
  const reverse = await diff('diff-b.yaml', 'diff-a.yaml');
  assert.match(reverse.stdout, /^x86_64 ptrace: kill_process -> errno\(EPERM\)$/m);
});

test('identical decisions exit 0 with no output', async () => {
  const run = await diff('diff-a.yaml', 'diff-a.yaml');
  assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
});

test('a sysfence policy and the OCI profile that says the same thing diff empty', async () => {
  const run = await diff('oci-same.yaml', 'oci-same.json');
  assert.equal(run.stdout, '');
  assert.equal(run.code, 0);
});

test('a sysfence policy against a different OCI profile shows the changes', async () => {
  const run = await diff('diff-b.yaml', 'oci-same.json');
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^x86_64 socket\(arg0=[^)]*\): allow -> errno\(EPERM\)$/m);
  assert.match(run.stdout, /^x86_64 <unknown nr [0-9,]+>: errno\(ENOSYS\) -> errno\(EPERM\)$/m);
  assert.match(run.stdout, /^x32 <any syscall>: kill_process -> kill_thread$/m);
});

test('json output: entries with abi, subject, actions and argument ranges as strings', async () => {
  const run = await diff('diff-a.yaml', 'diff-b.yaml', '--format', 'json');
  assert.equal(run.code, 1);
  assert.deepEqual(JSON.parse(run.stdout), [
    {
      abi: 'x86_64',
      subject: 'syscall',
      syscall: 'socket',
      numbers: [41],
      before: 'allow',
      after: 'errno(EAFNOSUPPORT)',
      args: [[{ index: 0, from: '16', to: '16' }]],
    },
    {
      abi: 'x86_64',
      subject: 'syscall',
      syscall: 'ptrace',
      numbers: [101],
      before: 'errno(EPERM)',
      after: 'kill_process',
    },
  ]);
});

test('bad input exits 2', async () => {
  assert.equal((await diff('diff-a.yaml', 'broken.yaml')).code, 2);
  assert.equal((await diff('diff-a.yaml', 'diff-b.yaml', '--format', 'html')).code, 2);
  let stderr = '';
  const code = await main(['diff', `${FIXTURES}diff-a.yaml`], {
    stdout: () => undefined,
    stderr: (t) => (stderr += t),
  });
  assert.equal(code, 2);
  assert.match(stderr, /missing policy B/);
});
