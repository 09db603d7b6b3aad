/**
 * Recording a workload with eBPF (bpftrace): attach the counting program (ebpf-program.ts), run or wait
 * for the workload, stop bpftrace so it prints its maps, and turn them into events.
 *
 * A command is started as a stub (/bin/sh waiting on a pipe) whose pid the program watches; the stub is
 * released only once every probe is attached, and counting starts at its exec of COMMAND, so neither
 * sysfence nor the stub appears in the recording and nothing of COMMAND is missed. Exec paths are
 * resolved at the end (executable-path.ts), so events name executables as /proc/PID/exe and audit do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostArch, type Arch } from '../syscalls/arch.js';
import { BpftraceRun, MAP_KEYS_MAX } from './ebpf-bpftrace.js';
import { eventsFromMaps } from './ebpf-output.js';
import { CALLS_MAP, recordingProgram, type EbpfTarget } from './ebpf-program.js';
import { emptySourceStats, recordProblem, type SourceStats } from './event.js';
import { sharesMountNamespace, withResolvedExecutables } from './executable-path.js';
import { childExit, type CommandStatus, type RecordTarget, type Recording } from './recorded-command.js';

export interface EbpfRecordRequest {
  readonly target: RecordTarget;
  /** Host name for the events (default: this machine's). */
  readonly host?: string;
  /** Ends a pids or cgroup recording; a command recording ends when the command exits. */
  readonly stop?: AbortSignal;
  /** PATH to find bpftrace on (default: this process's). */
  readonly pathVariable?: string;
  /** Called once every probe is attached (before a command is released): the recording window opens. */
  readonly onAttached?: () => void;
}

/** The stub: wait for the go byte on fd 3 (EOF: sysfence died, do not run unrecorded), then exec COMMAND. */
const STUB_SCRIPT = 'read -r go <&3 || exit 125; exec 3<&-; exec "$@"';
const STUB_FD = 3;
/** How often a pids recording checks whether its processes are still alive. */
const LIVENESS_POLL_MS = 250;
/**
 * Running processes seeded into a host-wide recording (one BEGIN statement each); others that call are
 * named by /proc/PID/exe at the end, if they still run.
 */
const MAX_SEEDED = 2000;

/** Records a target with eBPF; throws (nothing recorded) when bpftrace is missing or fails to attach. */
export async function recordWithEbpf(request: EbpfRecordRequest): Promise<Recording> {
  const arch = hostArch();
  const stats = emptySourceStats();
  const start = Date.now();
  const target = request.target;
  const recorded =
    target.kind === 'command'
      ? await recordCommand(target, request, arch, stats)
      : await recordWatched(target, request, arch, stats);
  const { run, exeOfPid, launched } = recorded;
  checkMaps(run, stats);
  const end = Date.now();
  const containerId = target.kind === 'cgroup' ? target.containerId : undefined;
  const context = {
    arch,
    host: request.host ?? hostname(),
    time: end,
    exeOfPid,
    ...(containerId ? { containerId } : {}),
    ...(launched ? { launched } : {}),
  };
  const recorder = new Set([process.pid, run.pid]);
  const all = eventsFromMaps(run.maps, context, stats);
  const events = all.filter((event) => !recorder.has(event.pid));
  stats.events -= all.length - events.length;
  await fillMissingExecutables(events, exeOfPid);
  const status = recorded.status;
  const named = events.map((event) => withExe(event, exeOfPid));
  return {
    events: recorded.sameFiles ? await withResolvedExecutables(named) : named,
    stats,
    start,
    end,
    ...(status ? { status } : {}),
  };
}

interface Recorded {
  readonly run: BpftraceRun;
  readonly exeOfPid: Map<number, string>;
  readonly status?: CommandStatus;
  /** The command's stub and working directory (see EbpfEventContext). */
  readonly launched?: { readonly pid: number; readonly cwd: string };
  /** Whether the recorded processes see sysfence's files, so exec paths can be resolved here. */
  readonly sameFiles: boolean;
}

/** Records running processes (pids, a cgroup, the host) until stopped (pids: or until they are gone). */
async function recordWatched(
  target: WatchedTarget,
  request: EbpfRecordRequest,
  arch: Arch,
  stats: SourceStats,
): Promise<Recorded> {
  if (target.kind !== 'pids' && request.stop === undefined) {
    throw new Error(`a ${target.kind} recording needs a stop signal (duration or SIGINT)`);
  }
  const pids = await processesOf(target);
  const exeOfPid = await executablesOf(pids);
  const program = recordingProgram(ebpfTargetOf(target, pids), arch);
  const run = new BpftraceRun({ program, stats, pathVariable: request.pathVariable });
  await attachOrKill(run, request.onAttached);
  try {
    await waitForEnd(target, request.stop);
  } finally {
    await run.stop();
  }
  return { run, exeOfPid, sameFiles: await sameMountNamespace(target, pids) };
}

/**
 * A command shares sysfence's mount namespace; watched processes must all (a container's do not: their
 * paths mean files in the container, which sysfence cannot name from here, so they stay as given).
 * A host-wide recording mixes namespaces; its paths are resolved as the host sees them.
 */
async function sameMountNamespace(target: WatchedTarget, pids: readonly number[]): Promise<boolean> {
  if (target.kind === 'all') return true;
  const shared = await Promise.all(pids.map(sharesMountNamespace));
  return shared.every(Boolean);
}

async function attachOrKill(
  run: BpftraceRun,
  onAttached: (() => void) | undefined,
  also?: ChildProcess,
): Promise<void> {
  try {
    await run.attached;
    onAttached?.();
  } catch (error) {
    run.kill();
    also?.kill('SIGKILL');
    throw error;
  }
}

async function recordCommand(
  target: Extract<RecordTarget, { kind: 'command' }>,
  request: EbpfRecordRequest,
  arch: Arch,
  stats: SourceStats,
): Promise<Recorded> {
  if (target.argv.length === 0) throw new Error('no command to record');
  // Physical, so that a relative COMMAND resolves as the kernel resolved it (`..` after a symlink).
  const cwd = await realpath(target.cwd ?? process.cwd());
  const stub = spawn('/bin/sh', ['-c', STUB_SCRIPT, 'sysfence-record', ...target.argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: target.env ?? process.env,
    cwd,
  });
  const exited = childExit(stub);
  const go = stub.stdio[STUB_FD] as Writable | null;
  if (stub.pid === undefined || go === null) {
    stub.kill('SIGKILL');
    throw new Error('could not start the recording stub (/bin/sh)');
  }
  go.on('error', () => undefined); // a stub that died reports through its exit status
  let run: BpftraceRun;
  try {
    run = new BpftraceRun({
      program: recordingProgram({ kind: 'exec-of', pid: stub.pid }, arch),
      stats,
      pathVariable: request.pathVariable,
    });
  } catch (error) {
    stub.kill('SIGKILL');
    throw error;
  }
  await attachOrKill(run, request.onAttached, stub);
  go.end('go\n');
  let status: CommandStatus;
  try {
    status = await exited;
  } finally {
    await run.stop(); // also when waiting failed: bpftrace must not outlive the recording
  }
  return { run, status, exeOfPid: new Map(), launched: { pid: stub.pid, cwd }, sameFiles: true };
}

/** Waits for the stop signal, or (pids) until every recorded process has exited. */
async function waitForEnd(target: RecordTarget, stop: AbortSignal | undefined): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    if (stop === undefined) return;
    if (stop.aborted) resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
  });
  if (target.kind !== 'pids') {
    return stopped;
  }
  let done = false;
  void stopped.then(() => (done = true));
  while (!done && target.pids.some(isAlive)) await sleep(LIVENESS_POLL_MS);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type WatchedTarget = Exclude<RecordTarget, { kind: 'command' }>;

function ebpfTargetOf(target: WatchedTarget, pids: readonly number[]): EbpfTarget {
  if (target.kind === 'cgroup') return { kind: 'cgroup', path: target.path, pids };
  return { kind: target.kind, pids };
}

/** The processes running at the start, whose executables are read now (they may exec nothing later). */
async function processesOf(target: WatchedTarget): Promise<number[]> {
  if (target.kind === 'pids') return [...target.pids];
  const file = target.kind === 'cgroup' ? join(target.path, 'cgroup.procs') : undefined;
  if (file === undefined) return runningUserProcesses();
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

/** Host-wide seeds: processes with an executable (not kernel threads), at most MAX_SEEDED, sysfence excepted. */
async function runningUserProcesses(): Promise<number[]> {
  const pids = (await readdir('/proc'))
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);
  const withExe = await executablesOf(pids);
  return [...withExe.keys()].slice(0, MAX_SEEDED);
}

async function executableOf(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/exe`);
  } catch {
    return undefined; // gone, or a kernel thread
  }
}

async function executablesOf(pids: readonly number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const pid of pids) {
    const exe = await executableOf(pid);
    if (exe !== undefined) found.set(pid, exe);
  }
  return found;
}

/** Processes that predate the recording and had no exec in it: read their exe now, while some still run. */
async function fillMissingExecutables(
  events: readonly { pid: number; exe?: string }[],
  exeOfPid: Map<number, string>,
): Promise<void> {
  const missing = new Set(
    events.filter((event) => event.exe === undefined && !exeOfPid.has(event.pid)).map((event) => event.pid),
  );
  for (const [pid, exe] of await executablesOf([...missing])) exeOfPid.set(pid, exe);
}

function withExe<T extends { pid: number; exe?: string }>(
  event: T,
  exeOfPid: ReadonlyMap<number, string>,
): T {
  if (event.exe !== undefined) return event;
  const exe = exeOfPid.get(event.pid);
  return exe === undefined ? event : { ...event, exe };
}

/** A bpftrace that failed, or a full map, must not pass for a complete recording. */
function checkMaps(run: BpftraceRun, stats: SourceStats): void {
  if (!run.maps.has(CALLS_MAP) && run.exitCode !== 0) {
    throw new Error(`bpftrace failed (exit ${String(run.exitCode)}):\n${run.errorText()}`);
  }
  for (const [name, entries] of run.maps) {
    if (entries.size >= MAP_KEYS_MAX) {
      recordProblem(stats, {
        where: name,
        reason: `map full (${MAP_KEYS_MAX} keys): later keys were not counted`,
      });
    }
  }
}
