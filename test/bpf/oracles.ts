/**
 * libseccomp as a peer for the BPF tools' tests (python3-seccomp through bench/peers); the kernel as
 * oracle is test/oracle/kernel-run.ts. No mocks: a missing tool fails the test with an install hint.
 */
import type { Program } from '../../src/bpf/insn.js';
import type { Action } from '../../src/policy/action.js';
import type { Arch } from '../../src/syscalls/arch.js';
import { libseccompCompile, libseccompUnavailable, type PeerRule } from '../../bench/peers/libseccomp.js';

/**
 * libseccomp's filter (optimize level 1, its default) for hand-written rules, through the shared peer in
 * bench/peers; libseccomp's default bad-arch action (kill_thread) is kept.
 */
export function libseccompProgram(
  defaultAction: Action,
  arches: readonly Arch[],
  rules: readonly PeerRule[],
): Program {
  const missing = libseccompUnavailable();
  if (missing !== undefined) throw new Error(missing);
  return libseccompCompile({ defaultAction, arches, optimize: 1, rules }).program;
}
