/**
 * The real auditd, for tests that read what the kernel logs: started when it is not running (CI starts
 * it in scripts/setup.sh; a developer machine may not have), never mocked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const AUDIT_LOG = '/var/log/audit/audit.log';

function auditdRunning(): boolean {
  return spawnSync('pgrep', ['-x', 'auditd']).status === 0;
}

/** Starts auditd unless it runs; fails with the install hint when it is missing or will not start. */
export async function ensureAuditd(): Promise<void> {
  if (auditdRunning()) return;
  const started = spawnSync('auditd', [], { encoding: 'utf8' });
  if (started.error !== undefined) {
    throw new Error(`auditd is needed for this test: apt-get install -y auditd (${started.error.message})`);
  }
  for (let i = 0; i < 50 && !auditdRunning(); i++) await sleep(100);
  assert.ok(auditdRunning(), `auditd did not start: ${started.stderr}`);
}

/** The audit log's size now: where records appended from here on start. */
export function auditLogSize(): number {
  return existsSync(AUDIT_LOG) ? statSync(AUDIT_LOG).size : 0;
}
