/**
 * `sysfence run`: check everything that can fail while nothing runs (command on PATH, Landlock paths
 * and ABI, filter size), then start the launcher (launcher.ts) that confines itself and execs the
 * command, and wait for it. The workload's exit status passes through; a fatal signal becomes 128+N.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { BPF_MAXINSNS, type Program } from '../bpf/insn.js';
import { compile } from '../bpf/compiler.js';
import { loadAnyPolicy } from '../formats/load.js';
import type { FilesystemRules, NetworkRules } from '../policy/ir.js';
import { applyMode, type RolloutMode } from '../policy/modes.js';
import { hostArch } from '../syscalls/arch.js';
import { resolveCommand } from './command-path.js';
import {
  ACCESS_FS,
  formatLandlockGaps,
  isGranted,
  landlockAbi,
  planLandlock,
  type LandlockPlan,
} from './landlock.js';
import type { LaunchPlan } from './launch-plan.js';
import { serializeLaunchPlan } from './launch-plan.js';
import { LAUNCH_FAILED_EXIT, PLAN_FD, STATUS_FD, type LaunchFailure } from './launch-protocol.js';
import { siblingScript } from './node-script.js';
import { RUN_FILTER_FLAGS } from './seccomp.js';

/** Room the exec gate needs in front of the policy program (seccomp.ts: 4 load/compare pairs + RET). */
const EXEC_GATE_LENGTH = 9;

export interface LaunchRequest {
  /** The compiled filter for this host's kernel. */
  readonly program: Program;
  readonly filesystem?: FilesystemRules;
  readonly network?: NetworkRules;
  /** COMMAND ARGS... */
  readonly command: readonly string[];
  /** Refuse to run when the kernel's Landlock ABI is older than this. */
  readonly requireLandlockAbi?: number;
  /** The workload's environment; defaults to this process's. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface PreparedLaunch {
  readonly plan: LaunchPlan;
  /** Lines for stderr before launching: the Landlock rules this kernel will not enforce. */
  readonly notices: readonly string[];
}

/** Checks a request and builds the launcher's plan; throws (with nothing started) on any problem. */
export function prepareLaunch(
  request: LaunchRequest,
  kernelLandlockAbi: () => number = landlockAbi,
): PreparedLaunch {
  const [command, ...args] = request.command;
  if (command === undefined)
    throw new Error('no command given: sysfence run --policy POLICY -- COMMAND [ARGS...]');
  if (request.program.length + EXEC_GATE_LENGTH > BPF_MAXINSNS) {
    throw new Error(
      `the compiled filter has ${request.program.length} instructions; with the exec gate it exceeds the kernel's ${BPF_MAXINSNS}`,
    );
  }
  const env = request.env ?? process.env;
  const cwd = request.cwd ?? process.cwd();
  const executable = resolveCommand(command, env['PATH'], cwd);
  const landlock = prepareLandlock(request, executable, kernelLandlockAbi);
  const plan: LaunchPlan = {
    executable,
    argv: [command, ...args],
    env: environmentStrings(env),
    program: request.program,
    filterFlags: RUN_FILTER_FLAGS,
    ...(landlock ? { landlock } : {}),
  };
  return { plan, notices: landlock ? formatLandlockGaps(landlock) : [] };
}

function prepareLandlock(
  request: LaunchRequest,
  executable: string,
  kernelLandlockAbi: () => number,
): LandlockPlan | undefined {
  const needsLandlock = request.filesystem !== undefined || request.network !== undefined;
  const abi = needsLandlock || request.requireLandlockAbi !== undefined ? kernelLandlockAbi() : 0;
  if (request.requireLandlockAbi !== undefined && abi < request.requireLandlockAbi) {
    throw new Error(
      `--require-landlock-abi ${request.requireLandlockAbi}: this kernel has Landlock ABI ${abi}`,
    );
  }
  const plan = planLandlock(request.filesystem, request.network, abi);
  if (plan === undefined) return undefined;
  if (request.requireLandlockAbi !== undefined && plan.gaps.length > 0) {
    throw new Error(
      `--require-landlock-abi ${request.requireLandlockAbi}: rules not enforced:\n${formatLandlockGaps(plan).join('\n')}`,
    );
  }
  if (!isGranted(plan, executable, ACCESS_FS.EXECUTE)) {
    throw new Error(
      `${executable} is not beneath any filesystem.execute path of the policy; Landlock would refuse to start it`,
    );
  }
  return plan;
}

function environmentStrings(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
}

export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: NodeJS.Signals; readonly number: number }
  | { readonly kind: 'launch-failed'; readonly failure: LaunchFailure };

/** The exit code `run` ends with: the workload's code, 128+N for signal N, the launcher's code on failure. */
export function exitCodeOf(status: ExitStatus): number {
  switch (status.kind) {
    case 'exited':
      return status.code;
    case 'signaled':
      return 128 + status.number;
    case 'launch-failed':
      return status.failure.exitCode;
  }
}

// The terminal sends SIGINT/SIGQUIT to the whole foreground group, the workload included: `run` only
// stays alive to report its status. SIGTERM/SIGHUP sent to `run` alone are passed on to the workload.
const IGNORED_WHILE_RUNNING: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];

/** Relays signals from `run` to the launcher/workload while it runs; returns the function that stops it. */
function relaySignals(child: ChildProcess): () => void {
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  const ignore = (): void => undefined;
  FORWARDED.forEach((signal) => process.on(signal, forward));
  IGNORED_WHILE_RUNNING.forEach((signal) => process.on(signal, ignore));
  return () => {
    FORWARDED.forEach((signal) => process.off(signal, forward));
    IGNORED_WHILE_RUNNING.forEach((signal) => process.off(signal, ignore));
  };
}

/** Starts the launcher with a prepared plan (workload stdio inherited) and resolves with its exit status. */
export function launch(plan: LaunchPlan): Promise<ExitStatus> {
  const { node, args } = siblingScript('launcher');
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'];
  // The launcher gets an empty environment (no NODE_OPTIONS steering it); the workload's travels in the plan.
  const child = spawn(node, args, { stdio, env: {} });
  const planStream = child.stdio[PLAN_FD] as Writable | null;
  const statusStream = child.stdio[STATUS_FD] as Readable | null;
  if (planStream === null || statusStream === null) {
    child.kill('SIGKILL');
    return Promise.reject(new Error('could not open the launcher pipes'));
  }
  const stopRelay = relaySignals(child);
  const status: Buffer[] = [];
  statusStream.on('data', (chunk: Buffer) => status.push(chunk));
  // A launcher that dies before reading its plan closes the pipe; its exit status tells the story.
  planStream.on('error', () => undefined);
  planStream.end(serializeLaunchPlan(plan));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      stopRelay();
      resolve(interpretExit(code, signal, Buffer.concat(status).toString('utf8')));
    });
  });
}

function interpretExit(code: number | null, signal: NodeJS.Signals | null, statusText: string): ExitStatus {
  if (statusText !== '') return { kind: 'launch-failed', failure: parseFailure(statusText) };
  if (signal !== null) return { kind: 'signaled', signal, number: osConstants.signals[signal] ?? 0 };
  return { kind: 'exited', code: code ?? LAUNCH_FAILED_EXIT };
}

function parseFailure(text: string): LaunchFailure {
  try {
    const parsed = JSON.parse(text) as Partial<LaunchFailure>;
    if (typeof parsed.message === 'string' && typeof parsed.exitCode === 'number') {
      return { message: parsed.message, exitCode: parsed.exitCode };
    }
  } catch {
    // fall through: report the raw text
  }
  return { message: `the launcher failed: ${text}`, exitCode: LAUNCH_FAILED_EXIT };
}

export interface PolicyRunRequest {
  readonly policyPath: string;
  readonly mode: RolloutMode;
  readonly command: readonly string[];
  readonly requireLandlockAbi?: number;
}

/**
 * Loads a policy (sysfence or OCI), applies the rollout mode, compiles it for this host's kernel and
 * prepares the launch. Loader and compiler warnings come first among the notices. Throws a
 * PolicyError / CompileError / Error before anything is started.
 */
export async function preparePolicyRun(request: PolicyRunRequest): Promise<PreparedLaunch> {
  const arch = hostArch();
  const loaded = await loadAnyPolicy(request.policyPath, { arch });
  const policy = applyMode(loaded.policy, request.mode);
  const compiled = compile(policy, { arch });
  const prepared = prepareLaunch({
    program: compiled.program,
    filesystem: policy.filesystem,
    network: policy.network,
    command: request.command,
    requireLandlockAbi: request.requireLandlockAbi,
  });
  const warnings = [...loaded.warnings, ...compiled.warnings].map(
    (warning) => `sysfence: warning: ${warning}`,
  );
  return { plan: prepared.plan, notices: [...warnings, ...prepared.notices] };
}
