/**
 * The ABIs sysfence compiles for, their AUDIT_ARCH values (what the kernel puts in seccomp_data.arch)
 * and name <-> number lookups over the generated tables.
 */
import { ALL_SYSCALL_NAMES, SYSCALL_NUMBERS } from './tables.generated.js';

export type Arch = keyof typeof SYSCALL_NUMBERS;

export const ARCHES: readonly Arch[] = Object.keys(SYSCALL_NUMBERS) as Arch[];

/** x32 shares AUDIT_ARCH_X86_64; its syscall numbers carry this bit instead. */
export const X32_SYSCALL_BIT = 0x40000000;

/** AUDIT_ARCH_* from include/uapi/linux/audit.h: EM_* | 64-bit flag | little-endian flag. */
export const AUDIT_ARCH: Readonly<Record<Arch, number>> = {
  x86_64: 0xc000003e,
  x32: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
  riscv64: 0xc00000f3,
  s390x: 0x80000016,
  ppc64le: 0xc0000015,
  loongarch64: 0xc0000102,
};

/** libseccomp / OCI spellings of each ABI (SCMP_ARCH_*). */
export const SCMP_ARCH_NAME: Readonly<Record<Arch, string>> = {
  x86_64: 'SCMP_ARCH_X86_64',
  x32: 'SCMP_ARCH_X32',
  i386: 'SCMP_ARCH_X86',
  aarch64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  loongarch64: 'SCMP_ARCH_LOONGARCH64',
};

/**
 * Word size of the ABI's syscall arguments. A 32-bit ABI's syscalls read only the low 32 bits, but
 * seccomp_data may still carry a non-zero upper word (a 64-bit process using `int 0x80`), so filters
 * must compare only the low word there.
 */
export const ARCH_BITS: Readonly<Record<Arch, 32 | 64>> = {
  x86_64: 64,
  x32: 64,
  i386: 32,
  aarch64: 64,
  arm: 32,
  riscv64: 64,
  s390x: 64,
  ppc64le: 64,
  loongarch64: 64,
};

const ARCH_ALIASES: Readonly<Record<string, Arch>> = {
  amd64: 'x86_64',
  x86: 'i386',
  ia32: 'i386',
  arm64: 'aarch64',
  armhf: 'arm',
  ppc64el: 'ppc64le',
  loong64: 'loongarch64',
};

const KNOWN_NAMES: ReadonlySet<string> = new Set(ALL_SYSCALL_NAMES);

const numberToName: ReadonlyMap<Arch, ReadonlyMap<number, string>> = new Map(
  ARCHES.map((arch) => [
    arch,
    new Map(Object.entries(SYSCALL_NUMBERS[arch]).map(([name, nr]) => [nr, name] as const)),
  ]),
);

/** Parses an ABI name, accepting common aliases (amd64, arm64, ...) and SCMP_ARCH_* spellings. */
export function parseArch(text: string): Arch | undefined {
  const lower = text.toLowerCase();
  if ((ARCHES as readonly string[]).includes(lower)) return lower as Arch;
  const alias = ARCH_ALIASES[lower];
  if (alias !== undefined) return alias;
  return ARCHES.find((arch) => SCMP_ARCH_NAME[arch] === text.toUpperCase());
}

/** True if the kernel knows this syscall name on at least one architecture. */
export function isKnownSyscall(name: string): boolean {
  return KNOWN_NAMES.has(name);
}

/** The syscall's number on this ABI, or undefined where the ABI lacks it. */
export function syscallNumber(arch: Arch, name: string): number | undefined {
  return (SYSCALL_NUMBERS[arch] as Readonly<Record<string, number>>)[name];
}

/** The syscall's name for a number on this ABI, or undefined where the number is unassigned. */
export function syscallName(arch: Arch, nr: number): string | undefined {
  return numberToName.get(arch)?.get(nr);
}

/** All (name, number) pairs of an ABI, ascending by number. */
export function syscallEntries(arch: Arch): ReadonlyArray<readonly [name: string, nr: number]> {
  return Object.entries(SYSCALL_NUMBERS[arch]);
}

/** The ABI whose AUDIT_ARCH and number identify a syscall (x86_64 and x32 share the arch value). */
export function archForAudit(auditArch: number, nr: number): Arch | undefined {
  if (auditArch === AUDIT_ARCH.x86_64) {
    return (nr & X32_SYSCALL_BIT) !== 0 && nr !== 0xffffffff ? 'x32' : 'x86_64';
  }
  return ARCHES.find((arch) => AUDIT_ARCH[arch] === auditArch);
}

/** s390x is the only big-endian ABI here; BPF loads of 64-bit argument words depend on it. */
export function isBigEndian(arch: Arch): boolean {
  return arch === 's390x';
}

/**
 * The ABIs a kernel of this native architecture can run, and so the ones a filter installed there can
 * see: an x86_64 kernel also runs i386 (int 0x80, ia32 emulation) and x32 processes, an aarch64 kernel
 * runs arm (compat) processes. Naming a compat ABI (x32, i386, arm) means its 64-bit kernel.
 */
export function kernelAbis(arch: Arch): readonly Arch[] {
  switch (arch) {
    case 'x86_64':
    case 'x32':
      return ['x86_64', 'x32', 'i386'];
    case 'aarch64':
      return ['aarch64', 'arm'];
    default:
      return [arch];
  }
}

/** The native ABI of the kernel a filter for `arch` runs on (x32 and i386 processes run on x86_64). */
export function kernelArch(arch: Arch): Arch {
  return kernelAbis(arch)[0] ?? arch;
}

/** The ABI of the machine sysfence runs on, from Node's process.arch. */
export function hostArch(): Arch {
  const byNode: Readonly<Record<string, Arch>> = {
    x64: 'x86_64',
    ia32: 'i386',
    arm64: 'aarch64',
    arm: 'arm',
    riscv64: 'riscv64',
    s390x: 's390x',
    ppc64: 'ppc64le',
    loong64: 'loongarch64',
  };
  const arch = byNode[process.arch];
  if (arch === undefined) throw new Error(`unsupported host architecture ${process.arch}`);
  return arch;
}
