import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownerExitProbe } from '../../src/sources/ebpf-bpftrace.js';

const MODULE = fileURLToPath(new URL('../../src/sources/ebpf-bpftrace.ts', import.meta.url));

/** A sysfence stand-in: starts a BpftraceRun, prints bpftrace's pid once attached, then waits. */
const OWNER_SCRIPT = `
import { BpftraceRun } from ${JSON.stringify(MODULE)};
import { emptySourceStats } from ${JSON.stringify(MODULE.replace('ebpf-bpftrace.ts', 'event.ts'))};
const run = new BpftraceRun({
  program: 'BEGIN { printf("sysfence: attached\\\\n"); } tracepoint:raw_syscalls:sys_enter { }',
  stats: emptySourceStats(),
});
await run.attached;
console.log(run.pid);
setInterval(() => undefined, 1000);
`;

/** Running, not a zombie (a zombie's probes are detached; its reaper, init, is not ours to wait for). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/\) Z /.test(stat);
}

test('the owner-exit probe names the owner main thread', () => {
  assert.equal(ownerExitProbe(4242), 'tracepoint:sched:sched_process_exit /tid == 4242/ { exit(); }');
});

test('bpftrace ends itself when the sysfence that started it is killed', async () => {
  const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', OWNER_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(owner.stdout!, 'data')) as [Buffer];
  const bpftrace = Number(chunk.toString().trim());
  assert.ok(bpftrace > 0 && (await running(bpftrace)), `no bpftrace pid: ${chunk.toString()}`);
  owner.kill('SIGKILL');
  let waited = 0;
  while ((await running(bpftrace)) && waited < 10_000) {
    await sleep(100);
    waited += 100;
  }
  const still = await running(bpftrace);
  if (still) process.kill(bpftrace, 'SIGKILL');
  assert.equal(still, false, 'bpftrace outlived its owner');
});
