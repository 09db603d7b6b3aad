import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKnownSyscall, syscallNumber } from '../../src/syscalls/arch.js';
import {
  EQUIVALENCE_CLASSES,
  MULTIPLEXERS,
  VDSO_SYSCALLS,
  equivalentsOf,
  toleranceVariantsOf,
} from '../../src/syscalls/equivalents.js';
import { isRisky } from '../../src/syscalls/risk.js';
import { ALL_SYSCALL_NAMES } from '../../src/syscalls/tables.generated.js';
import { headerValues } from './c-headers.js';

test('equivalents: classes have unique ids, two or more distinct known members and a note', () => {
  assert.equal(new Set(EQUIVALENCE_CLASSES.map((c) => c.id)).size, EQUIVALENCE_CLASSES.length);
  for (const c of EQUIVALENCE_CLASSES) {
    assert.ok(c.syscalls.length >= 2, c.id);
    assert.equal(new Set(c.syscalls).size, c.syscalls.length, `${c.id}: duplicate member`);
    assert.deepEqual(
      c.syscalls.filter((name) => !isKnownSyscall(name)),
      [],
      c.id,
    );
    assert.ok(c.note.length > 0, c.id);
  }
});

test('equivalents: denying one spelling while allowing another is found', () => {
  assert.deepEqual(equivalentsOf('execve'), ['execveat']);
  assert.deepEqual(equivalentsOf('open'), ['creat', 'openat', 'openat2']);
  assert.ok(equivalentsOf('process_vm_writev').includes('ptrace'));
  assert.ok(equivalentsOf('unshare').includes('clone3'));
  assert.ok(equivalentsOf('mount').includes('fsmount'));
  assert.ok(equivalentsOf('chown').includes('fchownat') && equivalentsOf('chown').includes('lchown32'));
  assert.ok(equivalentsOf('rmdir').includes('unlinkat'));
  assert.equal(equivalentsOf('read').includes('read'), false, 'a syscall is not its own equivalent');
  assert.deepEqual(equivalentsOf('nope'), []);
});

test('equivalents: tolerance variants are the harmless spellings', () => {
  assert.deepEqual(toleranceVariantsOf('open'), ['openat', 'openat2']);
  assert.ok(
    toleranceVariantsOf('stat').includes('newfstatat') && toleranceVariantsOf('stat').includes('statx'),
  );
  assert.deepEqual(toleranceVariantsOf('dup2'), ['dup3']);
  assert.deepEqual(toleranceVariantsOf('poll'), ['ppoll', 'ppoll_time64']);
  assert.ok(toleranceVariantsOf('epoll_wait').includes('epoll_pwait2'));
  assert.ok(toleranceVariantsOf('wait4').includes('waitid'));
  assert.deepEqual(toleranceVariantsOf('execve'), [], 'execve has no tolerance variant');
  assert.deepEqual(
    toleranceVariantsOf('creat'),
    [],
    'creat is equivalent to open but not a tolerance variant',
  );
});

test('equivalents: clone3 is never tolerated in place of fork or clone (it is in the risk catalogue)', () => {
  assert.deepEqual(toleranceVariantsOf('clone'), ['fork', 'vfork']);
  assert.ok(!toleranceVariantsOf('fork').includes('clone3'));
});

test('equivalents: no tolerance variant of any syscall is in the risk catalogue', () => {
  for (const name of new Set(ALL_SYSCALL_NAMES)) {
    const risky = toleranceVariantsOf(name).filter(isRisky);
    assert.deepEqual(risky, [], name);
  }
});

test('equivalents: no tolerance class contains an exec', () => {
  for (const c of EQUIVALENCE_CLASSES.filter((k) => k.tolerance)) {
    assert.ok(!c.syscalls.includes('execve') && !c.syscalls.includes('execveat'), c.id);
  }
});

test('equivalents: vDSO calls are known syscalls', () => {
  assert.deepEqual(
    VDSO_SYSCALLS.filter((name) => !isKnownSyscall(name)),
    [],
  );
});

test('equivalents: multiplexers exist on i386 and not on x86_64, with known sub-calls', () => {
  for (const m of MULTIPLEXERS) {
    assert.ok(m.arches.includes('i386') && m.arches.includes('s390x'), m.syscall);
    assert.ok(!m.arches.includes('x86_64') && !m.arches.includes('aarch64'), m.syscall);
    for (const arch of m.arches) assert.notEqual(syscallNumber(arch, m.syscall), undefined);
    assert.deepEqual(
      m.calls.filter((c) => !isKnownSyscall(c.syscall)),
      [],
      m.syscall,
    );
    assert.equal(new Set(m.calls.map((c) => c.call)).size, m.calls.length, m.syscall);
  }
});

test('equivalents: multiplexer call numbers match <linux/net.h> and <linux/ipc.h>', () => {
  const cName = (multiplexer: string, syscall: string): string =>
    multiplexer === 'socketcall' ? `SYS_${syscall.toUpperCase()}` : syscall.toUpperCase();
  for (const m of MULTIPLEXERS) {
    const names = m.calls.map((c) => cName(m.syscall, c.syscall));
    const actual = headerValues({ headers: ['linux/net.h', 'linux/ipc.h'], names });
    for (const c of m.calls) assert.equal(actual.get(cName(m.syscall, c.syscall)), BigInt(c.call), c.syscall);
  }
});
