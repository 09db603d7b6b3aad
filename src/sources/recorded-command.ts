/**
 * What the recorders (eBPF and strace) share: what to record, what a recording gives back, finding the
 * tool on PATH with an install hint, and the recorded command's exit status.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { SourceStats, SyscallEvent } from './event.js';

/** What to record. */
export type RecordTarget =
  /** Start COMMAND and record it (from its own exec) and its descendants until it exits. */
  | {
      readonly kind: 'command';
      readonly argv: readonly string[];
      readonly env?: NodeJS.ProcessEnv;
      readonly cwd?: string;
    }
  /** Running processes and the children they start from now on. */
  | { readonly kind: 'pids'; readonly pids: readonly number[] }
  /** Every process in a cgroup v2 directory; `containerId` labels the events when it is a container's. */
  | { readonly kind: 'cgroup'; readonly path: string; readonly containerId?: string }
  /** Every process on the host (eBPF only), sysfence's own recorder excepted. */
  | { readonly kind: 'all' };

/** How the recorded command ended. */
export type CommandStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: NodeJS.Signals; readonly number: number };

/** What a recorder gives back. */
export interface Recording {
  readonly events: SyscallEvent[];
  readonly stats: SourceStats;
  /** The command's end, for a `command` target. */
  readonly status?: CommandStatus;
  /** When the recording started and stopped (ms since the epoch). */
  readonly start: number;
  readonly end: number;
}

/** The exit code a recorder's caller passes on: the command's code, or 128+N for signal N. */
export function exitCodeOfCommand(status: CommandStatus): number {
  return status.kind === 'exited' ? status.code : 128 + status.number;
}

/** The status of a child from its 'exit'/'close' event arguments. */
export function commandStatusOf(code: number | null, signal: NodeJS.Signals | null): CommandStatus {
  if (signal !== null) return { kind: 'signaled', signal, number: osConstants.signals[signal] ?? 0 };
  return { kind: 'exited', code: code ?? 1 };
}

/** Resolves when a child exits (its stdio may still be open). */
export function childExit(child: ChildProcess): Promise<CommandStatus> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(commandStatusOf(child.exitCode, child.signalCode));
      return;
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(commandStatusOf(code, signal)));
  });
}

/** The absolute path of a tool on PATH, or an Error saying how to install it (a recorder cannot run without it). */
export function findTool(name: string, pathVariable: string | undefined = process.env['PATH']): string {
  for (const directory of (pathVariable ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new Error(`${name} not found on PATH; install it: apt-get install -y ${name}`);
}
