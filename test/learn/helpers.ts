/** Event and trace builders shared by the learn tests. */
import type { SyscallEvent } from '../../src/sources/event.js';
import { syscallNumber, type Arch } from '../../src/syscalls/arch.js';

export const DAY = 86_400_000;
/** 2026-12-01T00:00:00Z */
export const T0 = Date.UTC(2026, 11, 1);

/** A syscall event of `exe` on x86_64 (or `extra.arch`) at T0, numbered from the ABI's table. */
export function call(
  syscall: string,
  args: readonly bigint[] = [],
  extra: Partial<SyscallEvent> = {},
): SyscallEvent {
  const arch: Arch = extra.arch ?? 'x86_64';
  const nr = syscallNumber(arch, syscall);
  if (nr === undefined) throw new Error(`${syscall} is not in the ${arch} table`);
  return {
    source: 'ebpf',
    host: 'web-1',
    time: T0,
    pid: 100,
    exe: '/usr/bin/app',
    arch,
    nr,
    syscall,
    args,
    ...extra,
  };
}
