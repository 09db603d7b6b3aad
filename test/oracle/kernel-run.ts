/**
 * The kernel as oracle: installs a raw filter in a fresh process on this machine's kernel through
 * test/helpers/seccomp-run.c (the kernel's verdict on the program, and optionally one system call under
 * it), and predicts the outcome a filter return value should produce, so tests can check kernel, emulator
 * and peers against each other.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeProgram, type Program } from '../../src/bpf/insn.js';
import { actionToRet, retToAction, type Action } from '../../src/policy/action.js';

export type KernelOutcome =
  | { readonly kind: 'returned'; readonly ret: bigint; readonly errno: number }
  | { readonly kind: 'signal'; readonly signal: string }
  /** The kernel refused to install the filter. */
  | { readonly kind: 'rejected'; readonly errno: number }
  /** Installed; no call was asked for. */
  | { readonly kind: 'loaded' };

/** What the test expects from a filter decision, independent of the syscall's own result when allowed. */
export type ExpectedOutcome =
  | { readonly kind: 'executed' }
  | { readonly kind: 'errno'; readonly errno: number }
  | { readonly kind: 'signal'; readonly signal: 'SIGSYS' };

const HELPER_SOURCE = fileURLToPath(new URL('../helpers/seccomp-run.c', import.meta.url));

let workDir: string | undefined;

/** A private temp directory for the helper binary and filter files. */
function scratchDir(): string {
  workDir ??= mkdtempSync(join(tmpdir(), 'sysfence-oracle-'));
  return workDir;
}

let helperBinary: string | undefined;

/** Compiles seccomp-run.c once per process with gcc; fails with an install hint if gcc is missing. */
export function seccompRunner(): string {
  if (helperBinary !== undefined) return helperBinary;
  const output = join(scratchDir(), 'seccomp-run');
  const gcc = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', output, HELPER_SOURCE], {
    encoding: 'utf8',
  });
  if (gcc.error !== undefined)
    throw new Error(
      `gcc is needed to build ${HELPER_SOURCE}: apt-get install -y gcc libc6-dev (${gcc.error.message})`,
    );
  if (gcc.status !== 0) throw new Error(`gcc failed on ${HELPER_SOURCE}:\n${gcc.stderr}`);
  helperBinary = output;
  return output;
}

let filterCounter = 0;

/** Writes the program as a raw filter file (little-endian: this host) and returns its path. */
export function writeFilterFile(program: Program | Buffer): string {
  const path = join(scratchDir(), `filter-${process.pid}-${filterCounter++}.bpf`);
  writeFileSync(path, Buffer.isBuffer(program) ? program : encodeProgram(program, false));
  return path;
}

/**
 * Installs the filter in a fresh child and, given `nr`, makes that syscall there (`buf` passes a scratch
 * buffer); without `nr` it only reports whether the kernel accepts the filter.
 */
export function runUnderFilter(
  filterFile: string,
  abi: 'x86_64' | 'i386',
  nr?: number,
  args: readonly (bigint | 'buf')[] = [],
): KernelOutcome {
  const call =
    nr === undefined
      ? []
      : [String(nr), ...args.map((arg) => (arg === 'buf' ? 'buf' : `0x${arg.toString(16)}`))];
  const argv = ['--abi', abi, filterFile, ...call];
  const run = spawnSync(seccompRunner(), argv, { encoding: 'utf8', timeout: 10_000 });
  if (run.error !== undefined) throw new Error(`seccomp-run did not run: ${run.error.message}`);
  if (run.signal !== null) return { kind: 'signal', signal: run.signal };
  if (run.status !== 0)
    throw new Error(`seccomp-run ${argv.join(' ')} exited ${run.status}: ${run.stderr.trim()}`);
  const rejected = /^load_errno=(\d+)$/m.exec(run.stdout);
  if (rejected !== null) return { kind: 'rejected', errno: Number(rejected[1]) };
  if (nr === undefined) return { kind: 'loaded' };
  const match = /^ret=(-?\d+) errno=(\d+)$/m.exec(run.stdout);
  if (match === null) throw new Error(`seccomp-run printed no result: ${JSON.stringify(run.stdout)}`);
  return { kind: 'returned', ret: BigInt(match[1] as string), errno: Number(match[2]) };
}

/** runUnderFilter for an in-memory program on the host's native ABI. */
export function runProgram(
  program: Program,
  call?: { readonly nr: number; readonly args: readonly bigint[] },
): KernelOutcome {
  return runUnderFilter(writeFilterFile(program), 'x86_64', call?.nr, call?.args);
}

/**
 * The outcome the kernel produces for a filter return value when nothing traces or listens: allow and
 * log run the syscall; errno fails it; kill_* and trap end the process with SIGSYS (trap's default
 * disposition); trace without a tracer and notify without a listener fail with ENOSYS.
 */
export function expectedOutcome(ret: number): ExpectedOutcome {
  const action = retToAction(ret);
  switch (action.kind) {
    case 'allow':
    case 'log':
      return { kind: 'executed' };
    case 'errno':
      return { kind: 'errno', errno: action.errno };
    case 'trace':
    case 'notify':
      return { kind: 'errno', errno: 38 };
    case 'kill_process':
    case 'kill_thread':
    case 'trap':
      return { kind: 'signal', signal: 'SIGSYS' };
  }
}

/**
 * True if the kernel outcome is what the filter decision predicts. A call the filter lets run returns
 * whatever the syscall returns: success, or an error of its own, which must not be one the filter itself
 * could have produced (`filterErrnos`), or the two cases would be indistinguishable.
 */
export function outcomeMatches(
  outcome: KernelOutcome,
  expected: ExpectedOutcome,
  filterErrnos: ReadonlySet<number>,
): boolean {
  switch (expected.kind) {
    case 'signal':
      return outcome.kind === 'signal' && outcome.signal === expected.signal;
    case 'errno':
      return outcome.kind === 'returned' && outcome.ret === -1n && outcome.errno === expected.errno;
    case 'executed':
      return outcome.kind === 'returned' && (outcome.ret >= 0n || !filterErrnos.has(outcome.errno));
  }
}

/** Every errno a filter compiled from these actions can make a syscall fail with (trace/notify: ENOSYS). */
export function errnosOf(actions: Iterable<Action>): Set<number> {
  const errnos = new Set<number>();
  for (const action of actions) {
    const expected = expectedOutcome(actionToRet(action));
    if (expected.kind === 'errno') errnos.add(expected.errno);
  }
  return errnos;
}
