import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSTANT_FAMILIES, constantNames, lookupConstant } from '../../src/syscalls/constants.js';
import { headerValues } from './c-headers.js';

/** Names the C headers spell differently (the uapi header only has FASYNC). */
const C_SPELLING: Readonly<Record<string, string>> = { O_ASYNC: 'FASYNC' };

/**
 * Constants newer than the headers installed on the development machine (linux-libc-dev 6.1). They are
 * compared with the headers whenever the headers define them.
 */
const NEWER_THAN_HEADERS: ReadonlySet<string> = new Set([
  'F_DUPFD_QUERY',
  'F_CREATED_QUERY',
  'PR_SET_MDWE',
  'PR_GET_MDWE',
  'PR_SET_MEMORY_MERGE',
  'PR_GET_MEMORY_MERGE',
  'PR_RISCV_V_SET_CONTROL',
  'PR_RISCV_V_GET_CONTROL',
  'PR_RISCV_SET_ICACHE_FLUSH_CTX',
  'PR_PPC_GET_DEXCR',
  'PR_PPC_SET_DEXCR',
  'PR_GET_SHADOW_STACK_STATUS',
  'PR_SET_SHADOW_STACK_STATUS',
  'PR_LOCK_SHADOW_STACK_STATUS',
  'PR_TIMER_CREATE_RESTORE_IDS',
  'PR_FUTEX_HASH',
  'PR_GET_AUXV',
  'MAP_DROPPABLE',
  'MADV_GUARD_INSTALL',
  'MADV_GUARD_REMOVE',
  'SECCOMP_IOCTL_NOTIF_SET_FLAGS',
  'PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG',
  'PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG',
]);

const cName = (name: string): string => C_SPELLING[name] ?? name;

for (const { family, headers, values } of CONSTANT_FAMILIES) {
  test(`constants: ${family} values match <${headers.join('>, <')}>`, () => {
    const names = Object.keys(values);
    const actual = headerValues({
      headers,
      names: names.filter((n) => !NEWER_THAN_HEADERS.has(n)).map(cName),
      optionalNames: names.filter((n) => NEWER_THAN_HEADERS.has(n)).map(cName),
    });
    const mismatches = names
      .filter((name) => actual.has(cName(name)) && actual.get(cName(name)) !== values[name])
      .map((name) => `${name}: table ${values[name]}, header ${actual.get(cName(name))}`);
    assert.deepEqual(mismatches, []);
  });
}

test('constants: the newer-than-headers list only names constants the table has', () => {
  const known = new Set(constantNames());
  assert.deepEqual(
    [...NEWER_THAN_HEADERS].filter((n) => !known.has(n)),
    [],
  );
});

test('constants: every value fits an unsigned 64-bit argument', () => {
  for (const name of constantNames()) {
    const value = lookupConstant(name)!;
    assert.ok(value >= 0n && value < 1n << 64n, `${name} = ${value}`);
  }
});

test('constants: lookups the policy language relies on', () => {
  assert.equal(lookupConstant('TIOCSTI'), 0x5412n);
  assert.equal(lookupConstant('CLONE_NEWUSER'), 0x10000000n);
  assert.equal(lookupConstant('CLONE_INTO_CGROUP'), 0x200000000n);
  assert.equal(lookupConstant('AF_NETLINK'), 16n);
  assert.equal(lookupConstant('PR_SET_NO_NEW_PRIVS'), 38n);
  assert.equal(lookupConstant('O_DIRECTORY'), 0o200000n);
  assert.equal(lookupConstant('SIGKILL'), 9n);
  assert.equal(lookupConstant('ADDR_NO_RANDOMIZE'), 0x40000n);
});

test('constants: unknown and inherited names are not constants', () => {
  for (const name of ['NOPE', 'tiocsti', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    assert.equal(lookupConstant(name), undefined, name);
  }
});

test('constants: names are unique across families', () => {
  const names = CONSTANT_FAMILIES.flatMap((f) => Object.keys(f.values));
  assert.equal(new Set(names).size, names.length);
  assert.equal(constantNames().length, names.length);
});
