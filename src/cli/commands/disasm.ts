/** `sysfence disasm FILTER [--arch ARCH] [--big-endian]`: list any raw seccomp-BPF filter, seccomp-tools style. */
import { readFileSync } from 'node:fs';
import { disassemble } from '../../bpf/disasm.js';
import { decodeProgram, type SockFilter } from '../../bpf/insn.js';
import { validateProgram } from '../../bpf/validate.js';
import { isBigEndian } from '../../syscalls/arch.js';
import { archOption } from '../arch-option.js';
import { hasFlag, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';

const USAGE = `usage: sysfence disasm FILTER [--arch ARCH] [--big-endian]

Lists a raw seccomp filter (struct sock_filter array, 8 bytes per instruction, as written by
sysfence compile, libseccomp's seccomp_export_bpf or any other tool), after checking it the way the
kernel does when it is loaded.
  --arch ARCH     name syscall numbers for ARCH where the filter's own arch checks do not say
  --big-endian    the file and the argument words are big-endian (implied by --arch s390x)
`;

/** Reads, decodes and validates a raw filter file; every failure names the file. */
export function readFilterFile(path: string, bigEndian: boolean): SockFilter[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read filter ${path}: ${(error as Error).message}`);
  }
  try {
    const program = decodeProgram(bytes, bigEndian);
    validateProgram(program);
    return program;
  } catch (error) {
    throw new Error(`${path}: not a valid seccomp filter: ${(error as Error).message}`);
  }
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const path = requirePositional(args, 0, 'FILTER');
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument '${args.positionals[1]}'`);
  const arch = archOption(args);
  const bigEndian = hasFlag(args, 'big-endian') || (arch !== undefined && isBigEndian(arch));
  const program = readFilterFile(path, bigEndian);
  io.stdout(disassemble(program, { arch, bigEndian }));
  return 0;
}

export const disasmCommand: Command = {
  name: 'disasm',
  summary: 'list a raw seccomp-BPF filter with syscall and arch names',
  usage: USAGE,
  options: [{ name: 'arch', value: true }, { name: 'big-endian' }],
  run,
};
