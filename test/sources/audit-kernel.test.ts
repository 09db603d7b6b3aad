/**
 * The audit source on a real record: a small process runs under a seccomp LOG filter on this machine
 * (`sysfence run --mode log`), the kernel writes type=SECCOMP through auditd, and the parser must read
 * that record back as the call it was. ausearch, reading the same log, is the peer for the record count.
 * Needs auditd (started here if it is not running, as scripts/setup.sh does).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditParser, readAuditLog } from '../../src/sources/audit.js';
import { emptySourceStats, type SyscallEvent } from '../../src/sources/event.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { callResult, describe, policyYaml, runUnder, workload, writePolicy } from '../enforce/support.js';
import { AUDIT_LOG, auditLogSize, ensureAuditd } from '../helpers/auditd.js';

const INSTALL_HINT = 'apt-get install -y auditd';
const GETPPID = syscallNumber('x86_64', 'getppid')!;

function requireTool(tool: string): void {
  const found = spawnSync(tool, ['--help'], { encoding: 'utf8' });
  if (found.error !== undefined)
    throw new Error(`${tool} is needed for this test: ${INSTALL_HINT} (${found.error.message})`);
}

before(async () => {
  requireTool('ausearch');
  requireTool('aureport');
  await ensureAuditd();
});

/** Events parsed from what auditd appended since `offset`, waiting up to 5 s for one that `wanted` accepts. */
async function appendedEvents(
  offset: number,
  wanted: (event: SyscallEvent) => boolean,
): Promise<{ events: SyscallEvent[]; malformed: number }> {
  let last = { events: [] as SyscallEvent[], malformed: 0 };
  for (let attempt = 0; attempt < 50; attempt++) {
    const stats = emptySourceStats();
    const parser = new AuditParser(stats, { file: AUDIT_LOG });
    const text = readFileSync(AUDIT_LOG).subarray(offset).toString('latin1');
    const events: SyscallEvent[] = [];
    // Only whole lines: auditd may be in the middle of writing the last one.
    const lines = text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .slice(0, -1);
    lines.forEach((line, index) => events.push(...parser.push(line, index + 1)));
    events.push(...parser.flush());
    last = { events, malformed: stats.malformed };
    if (events.some(wanted)) return last;
    await sleep(100);
  }
  return last;
}

test('a real type=SECCOMP record from a LOG filter is parsed as the call it was', async () => {
  const policy = writePolicy(
    policyYaml({ rules: '  - syscalls: [getppid]\n    action: errno(EXDEV)\n    reason: audit source test' }),
  );
  const offset = auditLogSize();
  const result = runUnder(policy, [workload(), 'syscall', String(GETPPID)], ['--mode', 'log']);
  assert.ok(callResult(result.stdout).ret > 0, `log mode must let the call run: ${describe(result)}`);
  const isOurs = (event: SyscallEvent): boolean => event.exe === workload() && event.syscall === 'getppid';
  const { events, malformed } = await appendedEvents(offset, isOurs);
  const ours = events.find(isOurs);
  assert.ok(ours !== undefined, `no SECCOMP event for ${workload()} parsed from ${AUDIT_LOG}`);
  assert.equal(ours.source, 'audit');
  assert.equal(ours.arch, 'x86_64');
  assert.equal(ours.nr, GETPPID);
  assert.deepEqual(ours.action, { kind: 'log' });
  // TASK_COMM_LEN: the kernel keeps the first 15 bytes of the program's name.
  assert.equal(ours.comm, 'enforce-workload'.slice(0, 15));
  assert.equal(ours.uid, process.getuid?.());
  assert.ok(Math.abs(ours.time - Date.now()) < 60_000, `time ${ours.time} is not now`);
  assert.equal(malformed, 0);
});

/** A copy of the log up to its last whole line, so other processes' records cannot change it under us. */
function snapshotLog(): string {
  const bytes = readFileSync(AUDIT_LOG);
  const path = join(mkdtempSync(join(tmpdir(), 'sysfence-audit-')), 'audit.log');
  writeFileSync(path, bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1));
  return path;
}

test('the whole audit log parses without a malformed line, and ausearch finds as many SECCOMP records', async () => {
  const snapshot = snapshotLog();
  const { events, stats } = await readAuditLog(snapshot);
  assert.deepEqual(stats.problems, []);
  const search = spawnSync('ausearch', ['-if', snapshot, '-m', 'SECCOMP', '--raw'], {
    encoding: 'latin1',
    maxBuffer: 1 << 30,
  });
  assert.ok(search.status === 0 || search.status === 1, `ausearch failed: ${search.stderr}`);
  const peerCount = search.stdout.split('\n').filter((line) => line.startsWith('type=SECCOMP ')).length;
  const ourCount = events.filter((event) => event.action !== undefined).length;
  assert.equal(ourCount, peerCount);
});

test("this machine's kernel log (dmesg) parses without a malformed line", () => {
  const dmesg = spawnSync('dmesg', [], { encoding: 'latin1', maxBuffer: 1 << 28 });
  if (dmesg.error !== undefined)
    throw new Error(`dmesg is needed: apt-get install -y util-linux (${dmesg.error.message})`);
  assert.equal(dmesg.status, 0, dmesg.stderr);
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, { file: 'dmesg', unauthenticatedForms: true });
  const events: SyscallEvent[] = [];
  dmesg.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .forEach((line, index) => events.push(...parser.push(line, index + 1)));
  events.push(...parser.flush());
  assert.deepEqual(stats.problems, []);
  assert.ok(events.every((event) => event.source === 'kmsg'));
});
