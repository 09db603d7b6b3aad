/**
 * The learning loop end to end on real servers: record a server while a client exercises it, learn a
 * policy from the trace, run the server under that policy in enforce mode. It must still serve, and an
 * attempt from inside it to spawn a shell or to ptrace is refused. Servers: python3's http.server
 * (test/fixtures/e2e/server.py: http.server's handler plus two attack doors the recording never uses)
 * and busybox httpd, whose CGI support is the door a shell would come through.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_ENTRY, REPO } from '../enforce/support.js';

const PYTHON = '/usr/bin/python3';
const BUSYBOX = '/usr/bin/busybox';
const SERVER_PY = join(REPO, 'test', 'fixtures', 'e2e', 'server.py');
const PAGE = '<h1>sysfence e2e</h1>\n';

function requireTool(path: string, hint: string): void {
  assert.ok(existsSync(path), `${path} is missing: ${hint}`);
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** The sysfence CLI from source, as a child process the test controls. */
function sysfenceChild(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function sysfence(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Collects a child's output and resolves its exit code. */
function watch(child: ChildProcess): { output: () => string; exited: Promise<number | null> } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { output: () => output, exited };
}

/** Polls until `url` answers (the server is up), or fails after ~15 s with what the child printed. */
async function waitForServer(url: string, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server at ${url} never answered; output:\n${output()}`);
}

async function get(url: string): Promise<{ status: number; body: string } | 'no answer'> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return 'no answer';
  }
}

/** The pid of the process whose command line contains `marker` (a unique port argument). */
function pidOf(marker: string): number {
  const result = spawnSync('pgrep', ['-n', '-f', marker], { encoding: 'utf8' });
  const pid = Number(result.stdout.trim());
  assert.ok(pid > 0, `no process matching '${marker}'`);
  return pid;
}

interface Server {
  /** The server's argv for a port. */
  readonly argv: (port: number) => string[];
  /** What uniquely marks the server's own process (not the launcher's) in its command line. */
  readonly marker: (port: number) => string;
}

/** Records the server while `exercise` drives it, then stops it; returns the trace path. */
async function recordServer(
  server: Server,
  dir: string,
  exercise: (base: string) => Promise<void>,
): Promise<string> {
  const port = await freePort();
  const trace = join(dir, 'trace.json');
  const recorder = sysfenceChild(['record', '-o', trace, '--', ...server.argv(port)]);
  const { output, exited } = watch(recorder);
  const base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/`, output);
  await exercise(base);
  process.kill(pidOf(server.marker(port)), 'SIGTERM');
  await exited;
  assert.ok(existsSync(trace), `record wrote no trace:\n${output()}`);
  return trace;
}

function learn(trace: string, dir: string, name: string): string {
  const policy = join(dir, 'policy.yaml');
  const result = sysfence(['learn', trace, '-o', policy, '--name', name]);
  assert.equal(result.status, 0, `learn failed:\n${result.stderr}`);
  return policy;
}

/** Runs the server under the policy (enforce mode) and hands its base URL to `probe`. */
async function underPolicy(
  server: Server,
  policy: string,
  probe: (base: string) => Promise<void>,
): Promise<void> {
  const port = await freePort();
  const runner = sysfenceChild(['run', '--policy', policy, '--mode', 'enforce', '--', ...server.argv(port)]);
  const { output, exited } = watch(runner);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForServer(`${base}/`, output);
    await probe(base);
  } finally {
    try {
      process.kill(pidOf(server.marker(port)), 'SIGTERM');
    } catch {
      runner.kill('SIGKILL');
    }
    await exited;
  }
}

test('python3 http.server: recorded, learned, served under the policy; shell and ptrace refused', async () => {
  requireTool(PYTHON, 'apt-get install -y python3');
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-e2e-py-'));
  const site = join(dir, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'index.html'), PAGE);
  const server: Server = {
    argv: (port) => [PYTHON, SERVER_PY, String(port), site],
    marker: (port) => `server.py ${port}`,
  };
  const trace = await recordServer(server, dir, async (base) => {
    for (let i = 0; i < 20; i++)
      assert.deepEqual(await get(`${base}/index.html`), { status: 200, body: PAGE });
    assert.equal(((await get(`${base}/missing`)) as { status: number }).status, 404);
  });
  // Control: unconfined, the door does run a shell (so the refusal below can fail).
  const port = await freePort();
  const control = spawn(PYTHON, server.argv(port).slice(1), { stdio: 'ignore' });
  try {
    await waitForServer(`http://127.0.0.1:${port}/`, () => '');
    assert.deepEqual(await get(`http://127.0.0.1:${port}/spawn-shell`), { status: 200, body: 'shell ran' });
  } finally {
    control.kill('SIGKILL');
  }
  // The recording holds no execve: python3's own start is the launcher's, not the server's.
  assert.doesNotMatch(readFileSync(trace, 'utf8'), /"syscall": ?"execve"/);
  const policy = learn(trace, dir, 'python-http-server');
  await underPolicy(server, policy, async (base) => {
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await get(`${base}/index.html`), { status: 200, body: PAGE });
    const shell = await get(`${base}/spawn-shell`);
    assert.ok(shell !== 'no answer', 'the server survives the attempt');
    assert.match(shell.body, /^shell refused errno=1$/, 'spawning a shell is refused (EPERM)');
    const ptrace = await get(`${base}/ptrace-parent`);
    assert.ok(ptrace !== 'no answer');
    assert.match(ptrace.body, /^ptrace refused errno=1$/, 'ptrace is refused (EPERM)');
  });
});

/** A CGI script that leaves a marker file: proof that a shell ran inside the server. */
function writeCgi(site: string, marker: string): void {
  mkdirSync(join(site, 'cgi-bin'));
  const script = join(site, 'cgi-bin', 'run.sh');
  writeFileSync(
    script,
    `#!/bin/sh\ntouch '${marker}'\nprintf 'Content-Type: text/plain\\r\\n\\r\\nran\\n'\n`,
  );
  chmodSync(script, 0o755);
}

test('busybox httpd: recorded, learned, served under the policy; its CGI cannot start a shell', async () => {
  requireTool(BUSYBOX, 'apt-get install -y busybox');
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-e2e-bb-'));
  const site = join(dir, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'index.html'), PAGE);
  const marker = join(dir, 'shell-ran');
  writeCgi(site, marker);
  const server: Server = {
    argv: (port) => [BUSYBOX, 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', site],
    marker: (port) => `httpd -f -p 127.0.0.1:${port}`,
  };
  const trace = await recordServer(server, dir, async (base) => {
    for (let i = 0; i < 20; i++)
      assert.deepEqual(await get(`${base}/index.html`), { status: 200, body: PAGE });
  });
  // Control: unconfined, the CGI door does run a shell (so the check below can fail).
  const control = spawn(BUSYBOX, server.argv(await freePort()).slice(1), { stdio: 'ignore' });
  try {
    const port = Number(control.spawnargs[4]?.split(':')[1]);
    await waitForServer(`http://127.0.0.1:${port}/`, () => '');
    assert.deepEqual(await get(`http://127.0.0.1:${port}/cgi-bin/run.sh`), { status: 200, body: 'ran\n' });
    assert.ok(existsSync(marker), 'control: the CGI shell ran');
  } finally {
    control.kill('SIGKILL');
  }
  spawnSync('rm', ['-f', marker]);
  const policy = learn(trace, dir, 'busybox-httpd');
  assert.match(readFileSync(policy, 'utf8'), /^name: /m);
  await underPolicy(server, policy, async (base) => {
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await get(`${base}/index.html`), { status: 200, body: PAGE });
    const cgi = await get(`${base}/cgi-bin/run.sh`);
    assert.ok(cgi === 'no answer' || cgi.status !== 200 || cgi.body !== 'ran\n', 'the CGI did not answer');
    assert.ok(!existsSync(marker), 'no shell ran inside the confined server');
    assert.deepEqual(await get(`${base}/index.html`), { status: 200, body: PAGE }, 'still serving');
  });
});
