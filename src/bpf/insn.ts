/**
 * Classic BPF instructions as seccomp sees them (struct sock_filter) and the offsets of
 * struct seccomp_data. Pure data; the compiler, emulator and disassembler share it.
 */

export interface SockFilter {
  /** 16-bit opcode. */
  readonly code: number;
  /** Conditional jump offsets (8-bit): taken when true / false, relative to the next instruction. */
  readonly jt: number;
  readonly jf: number;
  /** 32-bit unsigned immediate. */
  readonly k: number;
}

export type Program = readonly SockFilter[];

/** BPF_MAXINSNS: the kernel refuses longer filters. */
export const BPF_MAXINSNS = 4096;

// Instruction classes and fields (include/uapi/linux/filter.h, bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;

export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;

export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** BPF_MEMWORDS: scratch memory slots. */
export const BPF_MEMWORDS = 16;

/** Offsets in struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }. */
export const SECCOMP_DATA = {
  NR: 0,
  ARCH: 4,
  IP: 8,
  ARGS: 16,
  SIZE: 64,
} as const;

/** Byte offset of the low or high 32-bit word of argument `index`, for a host of the given byte order. */
export function argWordOffset(index: number, word: 'low' | 'high', bigEndian: boolean): number {
  const base = SECCOMP_DATA.ARGS + 8 * index;
  const highFirst = bigEndian;
  return (word === 'high') === highFirst ? base : base + 4;
}

export function stmt(code: number, k: number): SockFilter {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

export function jump(code: number, k: number, jt: number, jf: number): SockFilter {
  return { code, jt, jf, k: k >>> 0 };
}

/** Serializes a program as the raw struct sock_filter array: 8 bytes per instruction. */
export function encodeProgram(program: Program, bigEndian = false): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    const at = i * 8;
    if (bigEndian) {
      out.writeUInt16BE(insn.code, at);
      out.writeUInt32BE(insn.k >>> 0, at + 4);
    } else {
      out.writeUInt16LE(insn.code, at);
      out.writeUInt32LE(insn.k >>> 0, at + 4);
    }
    out.writeUInt8(insn.jt, at + 2);
    out.writeUInt8(insn.jf, at + 3);
  });
  return out;
}

/** Parses a raw struct sock_filter array; the length must be a non-zero multiple of 8. */
export function decodeProgram(bytes: Uint8Array, bigEndian = false): SockFilter[] {
  if (bytes.length === 0 || bytes.length % 8 !== 0) {
    throw new Error(`a BPF program is a non-empty array of 8-byte instructions; got ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: SockFilter[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    program.push({
      code: view.getUint16(at, !bigEndian),
      jt: view.getUint8(at + 2),
      jf: view.getUint8(at + 3),
      k: view.getUint32(at + 4, !bigEndian),
    });
  }
  return program;
}
