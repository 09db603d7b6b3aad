/**
 * Asks the real C headers for constant values: writes a small C program that prints each name's value,
 * compiles it with gcc and parses its output. Used to check sysfence's tables against the kernel uapi
 * and glibc headers of the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HeaderQuery {
  readonly headers: readonly string[];
  /** Names that must exist: the program fails to compile if one is missing. */
  readonly names: readonly string[];
  /** Names that may be missing from older headers: printed only `#ifdef NAME`. */
  readonly optionalNames?: readonly string[];
}

const INSTALL_HINT = 'gcc and the C headers are needed: apt-get install gcc libc6-dev linux-libc-dev';

function printLine(name: string): string {
  return `  printf("%s %llu\\n", "${name}", (unsigned long long)(${name}));`;
}

function cProgram(query: HeaderQuery): string {
  const includes = query.headers.map((h) => `#include <${h}>`);
  const required = query.names.map(printLine);
  const optional = (query.optionalNames ?? []).map((n) => `#ifdef ${n}\n${printLine(n)}\n#endif`);
  return [
    '#define _GNU_SOURCE',
    '#include <stdio.h>',
    ...includes,
    'int main(void) {',
    ...required,
    ...optional,
    '  return 0;',
    '}',
    '',
  ].join('\n');
}

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${command} not found. ${INSTALL_HINT}` : result.error.message);
  }
  if (result.status !== 0) throw new Error(`${command} failed:\n${result.stderr}`);
  return result.stdout;
}

/** The values the headers give each name, as unsigned 64-bit numbers; optional names absent are left out. */
export function headerValues(query: HeaderQuery): Map<string, bigint> {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-cheaders-'));
  try {
    const source = join(dir, 'values.c');
    const binary = join(dir, 'values');
    writeFileSync(source, cProgram(query));
    run('gcc', ['-o', binary, source]);
    const values = new Map<string, bigint>();
    for (const line of run(binary, []).split('\n')) {
      const [name, value] = line.split(' ');
      if (name !== undefined && name !== '' && value !== undefined) values.set(name, BigInt(value));
    }
    return values;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
