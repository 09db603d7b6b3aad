import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errnoName, errnoNames, errnoNumber } from '../../src/syscalls/errno.js';
import { headerValues } from './c-headers.js';

const UAPI_ERRNO_HEADERS = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];

/** `#define ENAME value` lines of the kernel's errno headers (value is a number or another name). */
function uapiErrnoDefines(): Map<string, string> {
  const defines = new Map<string, string>();
  for (const path of UAPI_ERRNO_HEADERS) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`${path} missing: apt-get install linux-libc-dev`);
    }
    for (const match of text.matchAll(/^#define\s+(E[A-Z0-9]+)\s+(\w+)/gm)) defines.set(match[1]!, match[2]!);
  }
  return defines;
}

test('errno: every name of the kernel headers is known, with the same number', () => {
  const defines = uapiErrnoDefines();
  assert.ok(defines.size > 130, `only ${defines.size} errno defines parsed`);
  for (const [name, value] of defines) {
    const expected = /^\d+$/.test(value) ? Number(value) : Number(defines.get(value));
    assert.equal(errnoNumber(name), expected, name);
  }
});

test('errno: every name sysfence accepts has the value <errno.h> gives it', () => {
  const names = errnoNames();
  const actual = headerValues({ headers: ['errno.h'], names });
  for (const name of names) assert.equal(BigInt(errnoNumber(name)!), actual.get(name), name);
});

test('errno: errnoName returns the canonical name, not an alias', () => {
  assert.equal(errnoName(11), 'EAGAIN');
  assert.equal(errnoNumber('EWOULDBLOCK'), 11);
  assert.equal(errnoName(35), 'EDEADLK');
  assert.equal(errnoNumber('EDEADLOCK'), 35);
  assert.equal(errnoName(95), 'EOPNOTSUPP');
  assert.equal(errnoNumber('ENOTSUP'), 95);
  assert.equal(errnoName(1), 'EPERM');
  assert.equal(errnoName(133), 'EHWPOISON');
});

test('errno: canonical names round-trip and numbers are unique', () => {
  const canonical = errnoNames().filter((name) => errnoName(errnoNumber(name)!) === name);
  assert.equal(new Set(canonical.map((n) => errnoNumber(n))).size, canonical.length);
  assert.equal(canonical.length, errnoNames().length - 3);
});

test('errno: unknown names and numbers', () => {
  for (const name of ['ENOPE', 'eperm', '', 'constructor', '__proto__', 'toString']) {
    assert.equal(errnoNumber(name), undefined, name);
  }
  for (const value of [0, -1, 41, 58, 134, 512, 4096, 1.5])
    assert.equal(errnoName(value), undefined, String(value));
});
