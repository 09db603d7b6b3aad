/**
 * Audit: `--mode log` lets a denied syscall run and records it as type=SECCOMP in the audit log, and the
 * LOG filter flag makes an enforced errno action reach the log too. Needs auditd (started here if it is
 * not running, as .ci/run does).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SECCOMP_RET } from '../../src/policy/action.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { callResult, describe, policyYaml, runUnder, workload, writePolicy } from './support.js';
import { AUDIT_LOG, auditLogSize, ensureAuditd } from '../helpers/auditd.js';

const GETPPID = syscallNumber('x86_64', 'getppid') as number;
const EXDEV = 18;

before(ensureAuditd);

/** SECCOMP records appended to the audit log since `offset` for our workload binary, waiting up to 5 s. */
async function seccompRecords(offset: number, code: number): Promise<string[]> {
  const codeText = `code=0x${code.toString(16)}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const appended = readFileSync(AUDIT_LOG).subarray(offset).toString('utf8');
    const records = appended
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('type=SECCOMP') && line.includes(`exe="${workload()}"`) && line.includes(codeText),
      );
    if (records.length > 0) return records;
    await sleep(100);
  }
  return [];
}

test('log mode lets a denied syscall run and records it as type=SECCOMP', async () => {
  const policy = writePolicy(
    policyYaml({ rules: '  - syscalls: [getppid]\n    action: errno(EXDEV)\n    reason: test' }),
  );
  const offset = auditLogSize();
  const result = runUnder(policy, [workload(), 'syscall', String(GETPPID)], ['--mode', 'log']);
  assert.ok(callResult(result.stdout).ret > 0, `log mode must not deny: ${describe(result)}`);
  const records = await seccompRecords(offset, SECCOMP_RET.LOG);
  assert.ok(records.length > 0, `no type=SECCOMP record for ${workload()} in ${AUDIT_LOG}`);
  assert.match(records[0] as string, new RegExp(`syscall=${GETPPID} `));
  assert.match(records[0] as string, /arch=c000003e/);
});

test('an enforced errno action reaches the audit log (SECCOMP_FILTER_FLAG_LOG)', async () => {
  const policy = writePolicy(
    policyYaml({ rules: '  - syscalls: [getppid]\n    action: errno(EXDEV)\n    reason: test' }),
  );
  const offset = auditLogSize();
  const result = runUnder(policy, [workload(), 'syscall', String(GETPPID)]);
  assert.deepEqual(callResult(result.stdout), { ret: -1, errno: EXDEV }, describe(result));
  // The kernel logs the action without its data: code=0x50000 for any errno.
  const records = await seccompRecords(offset, SECCOMP_RET.ERRNO);
  assert.ok(records.length > 0, `no errno record for ${workload()} in ${AUDIT_LOG}`);
});
