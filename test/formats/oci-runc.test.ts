import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOci, importOci } from '../../src/formats/oci.js';
import { dockerProfile } from './oci-helpers.js';

/** Runs a tool, failing the test with an install hint when it is missing. */
function tool(command: string, args: readonly string[], cwd: string, hint: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined) assert.fail(`${command} could not run (${result.error.message}); ${hint}`);
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

test('real runc (as root) accepts the exported docker-default profile and enforces its decisions', () => {
  const bundle = mkdtempSync(join(tmpdir(), 'sysfence-runc-'));
  try {
    mkdirSync(join(bundle, 'rootfs'));
    const probe = new URL('../fixtures/oci/probe.c', import.meta.url).pathname;
    tool(
      'gcc',
      ['-static', '-O2', '-o', join(bundle, 'rootfs', 'probe'), probe],
      bundle,
      'install it: apt-get install gcc libc6-dev',
    );
    tool('runc', ['spec'], bundle, 'install it: apt-get install runc');
    const imported = importOci(dockerProfile(), 'docker-default.json', {
      arch: 'x86_64',
      kernelVersion: '6.8',
    });
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      process: { args: string[]; terminal: boolean };
      root: { readonly: boolean };
      linux: { seccomp?: unknown };
    };
    config.process.args = ['/probe'];
    config.process.terminal = false;
    config.root.readonly = true;
    config.linux.seccomp = JSON.parse(exportOci(imported.policy).json);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const output = tool(
      'runc',
      ['run', `sysfence-oci-${process.pid}`],
      bundle,
      'install it: apt-get install runc',
    );
    // personality(0xffffffff) is allowed (returns the persona, 0); personality(9) gets EPERM (1);
    // clone3 gets the profile's ENOSYS (38); mount needs CAP_SYS_ADMIN, so EPERM.
    assert.equal(output.trim(), 'personality(-1)=0/0 personality(9)=-1/1 clone3=-1/38 mount=-1/1');
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
});
