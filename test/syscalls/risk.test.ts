import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKnownSyscall } from '../../src/syscalls/arch.js';
import { expandGroup } from '../../src/syscalls/groups.js';
import { RISK_CATALOGUE, isRisky, riskOf } from '../../src/syscalls/risk.js';

const REQUIRED = [
  'ptrace',
  'process_vm_writev',
  'process_vm_readv',
  'mount',
  'umount2',
  'move_mount',
  'fsopen',
  'fsmount',
  'fsconfig',
  'fspick',
  'open_tree',
  'pivot_root',
  'mount_setattr',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'keyctl',
  'add_key',
  'request_key',
  'unshare',
  'setns',
  'open_by_handle_at',
  'name_to_handle_at',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'personality',
  'reboot',
  'swapon',
  'swapoff',
  'iopl',
  'ioperm',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'acct',
  'quotactl',
  'lookup_dcookie',
  'uselib',
  'vm86',
  'vm86old',
  'modify_ldt',
  'process_madvise',
  'pidfd_getfd',
  'kcmp',
  'fanotify_init',
  'chroot',
  'clone3',
];

/** Listed although Linux 7.2 dropped them, so profiles written for older kernels are still flagged. */
const REMOVED_FROM_KERNEL = ['uselib'];

const LEVELS = new Set(['critical', 'high', 'medium']);

test('risk: the catalogue lists every required syscall', () => {
  assert.deepEqual(
    REQUIRED.filter((name) => !isRisky(name)),
    [],
  );
});

test('risk: every entry is a known syscall, except the documented removed ones', () => {
  const unknown = Object.keys(RISK_CATALOGUE).filter((name) => !isKnownSyscall(name));
  assert.deepEqual(unknown, REMOVED_FROM_KERNEL);
});

test('risk: every entry has a valid level, a category and a one-line reason', () => {
  for (const [name, entry] of Object.entries(RISK_CATALOGUE)) {
    assert.ok(LEVELS.has(entry.level), `${name}: level ${entry.level}`);
    assert.match(entry.category, /^[a-z]+(-[a-z]+)*$/, name);
    assert.ok(
      entry.reason.length > 10 && entry.reason.length <= 140,
      `${name}: reason length ${entry.reason.length}`,
    );
    assert.ok(!entry.reason.includes('\n'), `${name}: multi-line reason`);
  }
});

test('risk: the privileged systemd groups are entirely in the catalogue', () => {
  for (const group of ['@module', '@reboot', '@mount', '@swap', '@clock']) {
    const missing = (expandGroup(group) ?? []).filter((name) => !isRisky(name));
    assert.deepEqual(missing, [], group);
  }
});

test('risk: levels of the worst offenders', () => {
  for (const name of [
    'ptrace',
    'process_vm_writev',
    'kexec_load',
    'init_module',
    'finit_module',
    'open_by_handle_at',
  ]) {
    assert.equal(riskOf(name)?.level, 'critical', name);
  }
  assert.equal(riskOf('io_uring_setup')?.category, 'seccomp-bypass');
});

test('risk: ordinary and inherited names are not risky', () => {
  for (const name of ['read', 'openat', 'futex', 'constructor', '__proto__', 'toString', '']) {
    assert.equal(isRisky(name), false, name);
    assert.equal(riskOf(name), undefined, name);
  }
});
