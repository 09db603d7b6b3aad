/**
 * One bpftrace process run with `-f json`: its output read line by line into records, the moment its
 * probes are attached (the BEGIN marker), and a clean stop (SIGINT makes bpftrace print its maps).
 * Shared by the recorder and the streaming monitor source.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseBpftraceLine, type BpftraceMaps, type BpftraceRecord } from './ebpf-output.js';
import type { SourceStats } from './event.js';
import { findTool } from './recorded-command.js';
import { ATTACHED_MARKER } from './ebpf-program.js';

/** Longest string bpftrace 0.17 copies (paths, comm): its documented maximum. */
const STRING_LENGTH = 200;
/** Keys per map: enough for (pid, image, syscall) of large workloads; a full map is reported, not hidden. */
export const MAP_KEYS_MAX = 65536;
/** How long to wait for bpftrace to act on SIGINT before sending it again. */
const STOP_RETRY_MS = 2000;

export interface BpftraceOptions {
  readonly program: string;
  readonly stats: SourceStats;
  /** PATH to find bpftrace on (default: this process's). */
  readonly pathVariable?: string;
  /** Called for each printf record other than the attach marker. */
  readonly onPrintf?: (text: string) => void;
  /** Called for each map bpftrace prints (a program's `print(@map)`, and all maps at exit). */
  readonly onMap?: (name: string, entries: ReadonlyMap<string, unknown>) => void;
}

/**
 * bpftrace runs in its own process group and would outlive a sysfence that was killed, its probes still
 * taxing every call on the host: it ends itself when sysfence's main thread exits.
 */
export function ownerExitProbe(ownerPid: number): string {
  return `tracepoint:sched:sched_process_exit /tid == ${ownerPid}/ { exit(); }`;
}

/** A running bpftrace; `maps` fills in when it stops. */
export class BpftraceRun {
  readonly maps: BpftraceMaps = new Map();
  /** Resolves when every probe is attached; rejects if bpftrace ends first (the error holds its stderr). */
  readonly attached: Promise<void>;
  /** Resolves when bpftrace has exited and its output is read. */
  readonly finished: Promise<void>;
  private readonly child: ChildProcess;
  private stderr = '';
  private lineNumber = 0;

  constructor(private readonly options: BpftraceOptions) {
    const bpftrace = findTool('bpftrace', options.pathVariable);
    // Its own process group: a terminal's ^C must not end the recording before the workload has ended.
    this.child = spawn(bpftrace, ['-f', 'json', '-e', `${options.program}\n${ownerExitProbe(process.pid)}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: {
        ...process.env,
        BPFTRACE_STRLEN: String(STRING_LENGTH),
        BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS_MAX),
      },
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    let markAttached: () => void = () => undefined;
    this.attached = new Promise((resolve) => (markAttached = resolve));
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => {
      if (this.readLine(line)) markAttached();
    });
    this.finished = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', () => resolve());
    });
    this.attached = Promise.race([
      this.attached,
      this.finished.then(() => {
        throw new Error(`bpftrace ended before attaching its probes:\n${this.errorText()}`);
      }),
    ]);
    // Awaited by the caller; this only keeps an unawaited failure from becoming an unhandled rejection.
    this.attached.catch(() => undefined);
  }

  /** bpftrace's stderr without its harmless RLIMIT_MEMLOCK notice (newer kernels account BPF memory by cgroup). */
  errorText(): string {
    return this.stderr
      .split('\n')
      .filter((line) => line !== '' && !line.includes('RLIMIT_MEMLOCK'))
      .join('\n');
  }

  /** Reads one output line; true when it is the attach marker. */
  private readLine(line: string): boolean {
    this.lineNumber += 1;
    this.options.stats.records += 1;
    const record: BpftraceRecord | undefined = parseBpftraceLine(
      line,
      `bpftrace:${this.lineNumber}`,
      this.options.stats,
    );
    if (record === undefined) return false;
    if (record.type === 'map') {
      this.maps.set(record.name, record.entries);
      this.options.onMap?.(record.name, record.entries);
    }
    if (record.type === 'lost') this.options.stats.lost += record.count;
    if (record.type !== 'printf') return false;
    if (record.text === `${ATTACHED_MARKER}\n`) return true;
    this.options.onPrintf?.(record.text);
    return false;
  }

  /** Asks bpftrace to stop; it prints its maps and exits. */
  async stop(): Promise<void> {
    const interrupt = (): void => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    };
    interrupt();
    // A SIGINT that lands while bpftrace is still setting up can be missed; asking again is harmless.
    const retry = setInterval(interrupt, STOP_RETRY_MS);
    try {
      await this.finished;
    } finally {
      clearInterval(retry);
    }
  }

  /** Ends bpftrace at once, without its maps (on errors). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** bpftrace's process id (its own calls are not part of any recording). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** bpftrace's exit code after `finished`. */
  get exitCode(): number | null {
    return this.child.exitCode;
  }
}
