/** `sysfence emu FILTER [--arch ARCH] SYSCALL [ARG0..ARG5] [--trace]`: what a raw filter decides for one syscall. */
import { disassembleLines, DISASM_HEADER, formatRet } from '../../bpf/disasm.js';
import { emulateTraced } from '../../bpf/emulator.js';
import { AUDIT_ARCH, isBigEndian } from '../../syscalls/arch.js';
import { errnoName } from '../../syscalls/errno.js';
import { hasFlag, requirePositional, type ParsedArgs } from '../args.js';
import { parseArgumentOperands, parseSyscallOperand } from '../syscall-operands.js';
import type { Command, CommandIO } from '../command.js';
import { archOrHost } from '../arch-option.js';
import { readFilterFile } from './disasm.js';

const USAGE = `usage: sysfence emu FILTER [--arch ARCH] SYSCALL [ARG0 ... ARG5] [--trace]

Runs a raw seccomp filter (struct sock_filter array) in sysfence's emulator for one syscall and prints
the decision, e.g. ALLOW, ERRNO(1) (EPERM), KILL_PROCESS.
  --arch ARCH  the calling ABI (default: this machine's); sets seccomp_data.arch and the byte order
  SYSCALL      a name on ARCH (x32 names carry the x32 bit) or a number (42, 0x2a)
  ARGn         u64 argument values: 42, 0x2a, -1 (two's complement), AF_INET, O_RDONLY|O_CLOEXEC;
               put negative values after --, e.g. sysfence emu F.bpf openat -- -100 0 0
  --trace      also list the instructions executed
`;

/** The decision as printed: formatRet plus the errno's name when it has one. */
function decisionText(ret: number): string {
  const text = formatRet(ret);
  if (!text.startsWith('ERRNO(')) return text;
  const name = errnoName(ret & 0xffff);
  return name === undefined ? text : `${text} (${name})`;
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  // Operands after `--` count too: that is how a negative argument gets past the option parser.
  const operands = { ...args, positionals: [...args.positionals, ...args.rest] };
  const path = requirePositional(operands, 0, 'FILTER');
  const arch = archOrHost(args);
  const nr = parseSyscallOperand(requirePositional(operands, 1, 'SYSCALL'), arch);
  const syscallArgs = parseArgumentOperands(operands.positionals.slice(2));
  const bigEndian = isBigEndian(arch);
  const program = readFilterFile(path, bigEndian);
  const data = { nr, arch: AUDIT_ARCH[arch], args: syscallArgs };
  const result = emulateTraced(program, data, { bigEndian });
  if (hasFlag(args, 'trace')) {
    const lines = disassembleLines(program, { arch, bigEndian });
    io.stdout(`${DISASM_HEADER}\n${result.path.map((pc) => lines[pc]).join('\n')}\n`);
  }
  io.stdout(`${decisionText(result.ret)}\n`);
  return 0;
}

export const emuCommand: Command = {
  name: 'emu',
  summary: 'run a raw seccomp-BPF filter on one syscall and print its decision',
  usage: USAGE,
  options: [{ name: 'arch', value: true }, { name: 'trace' }],
  run,
};
