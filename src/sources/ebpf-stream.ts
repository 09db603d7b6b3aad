/**
 * The monitor's eBPF source: a host-wide bpftrace program that filters in the kernel and sends to user
 * space only the calls rules look at: syscalls outside the allowed set, exec, process creation, ptrace
 * and clock setting (always), and any call of a compat (i386) task. Every other call is only counted,
 * per (pid, syscall), in a per-CPU kernel map printed and cleared every interval.
 *
 * Events come in two kinds, never overlapping: a single call (with `tid`, `comm` and all six `args`,
 * no `count`), and a counter (with `count`, no `args`) for calls that were not sent one by one.
 */
import { hostArch, syscallNumber, X32_SYSCALL_BIT, type Arch } from '../syscalls/arch.js';
import { BpftraceRun } from './ebpf-bpftrace.js';
import { COMPAT_KEY_OFFSET } from './ebpf-program.js';
import { recordProblem, withSyscallName, type SourceStats, type SyscallEvent } from './event.js';

export interface EbpfStreamOptions {
  /** Syscall numbers of the native ABI that rules do not need to see one by one. */
  readonly allowedNumbers: ReadonlySet<number>;
  readonly host: string;
  readonly stats: SourceStats;
  readonly signal?: AbortSignal;
  /** Seconds between counter maps (default 10). */
  readonly countersIntervalSeconds?: number;
  /** PATH to find bpftrace on (default: this process's). */
  readonly pathVariable?: string;
  /** Called once the probes are attached: from then on nothing is missed. */
  readonly onAttached?: () => void;
}

/** Calls sent one by one even when allowed: they start programs and processes, trace others, set the clock. */
export const ALWAYS_SENT: readonly string[] = [
  'execve',
  'execveat',
  'fork',
  'vfork',
  'clone',
  'clone3',
  'ptrace',
  'settimeofday',
  'clock_settime',
  'adjtimex',
  'clock_adjtime',
];

/** Events held for a slow consumer before new ones are dropped (and counted as lost). */
export const MAX_QUEUED_EVENTS = 100_000;
const COUNTERS_MAP = '@counts';
const EVENT_PREFIX = 'E ';
const TS_COMPAT = 2;

/** The numbers counted silently: allowed and not among ALWAYS_SENT. */
export function quietNumbers(allowed: ReadonlySet<number>, arch: Arch): number[] {
  const always = new Set(ALWAYS_SENT.flatMap((name) => syscallNumber(arch, name) ?? []));
  return [...allowed]
    .filter((nr) => Number.isSafeInteger(nr) && nr >= 0 && !always.has(nr))
    .sort((a, b) => a - b);
}

/** The streaming program. `excludedPid` (the monitor itself) and bpftrace (its BEGIN runs in bpftrace) are never seen. */
export function streamingProgram(
  quiet: readonly number[],
  arch: Arch,
  intervalSeconds: number,
  excludedPid: number,
): string {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1)
    throw new Error(`counter interval must be whole seconds >= 1, got ${intervalSeconds}`);
  const compat = arch === 'x86_64' ? `(curtask->thread_info.status & ${TS_COMPAT})` : '0';
  const seeds = quiet.map((nr) => `@quiet[${nr}] = 1;`).join(' ');
  const args = [0, 1, 2, 3, 4, 5].map((index) => `args->args[${index}]`).join(', ');
  return [
    `BEGIN { @self = pid; ${seeds} printf("sysfence: attached\\n"); }`,
    `tracepoint:raw_syscalls:sys_enter /pid != ${excludedPid} && pid != @self/ {`,
    `  $compat = ${compat};`,
    `  if ($compat == 0 && @quiet[args->id]) { ${COUNTERS_MAP}[pid, args->id] = count(); }`,
    `  else { printf("${EVENT_PREFIX}%d %d %d %d %lx %lx %lx %lx %lx %lx %s\\n", pid, tid, $compat, args->id, ${args}, comm); }`,
    `}`,
    `interval:s:${intervalSeconds} { print(${COUNTERS_MAP}); clear(${COUNTERS_MAP}); }`,
    `END { clear(@quiet); clear(@self); }`,
    '',
  ].join('\n');
}

const EVENT_LINE =
  /^E (\d+) (\d+) (\d+) (-?\d+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) (.*)\n$/s;

function abiOf(compat: boolean, id: number, arch: Arch): Arch {
  if (compat) return 'i386';
  return arch === 'x86_64' && (id & X32_SYSCALL_BIT) !== 0 ? 'x32' : arch;
}

/** One printed call as an event, or undefined (a problem is recorded) when the line is not one. */
export function parseStreamLine(
  text: string,
  where: string,
  arch: Arch,
  host: string,
  stats: SourceStats,
): SyscallEvent | undefined {
  const match = EVENT_LINE.exec(text);
  if (match === null) {
    recordProblem(stats, { where, reason: `not an event line: ${text.slice(0, 80)}` });
    return undefined;
  }
  const [, pid, tid, compat, id, ...rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  const nr = Number(id);
  return withSyscallName<SyscallEvent>({
    source: 'ebpf',
    host,
    time: Date.now(),
    pid: Number(pid),
    tid: Number(tid),
    comm: rest[6] ?? '',
    arch: abiOf(compat !== '0', nr, arch),
    nr,
    args: rest.slice(0, 6).map((hex) => BigInt(`0x${hex}`)),
  });
}

/** The counter map as events (calls counted in the kernel, not sent one by one). */
export function counterEvents(
  entries: ReadonlyMap<string, unknown>,
  arch: Arch,
  host: string,
  stats: SourceStats,
): SyscallEvent[] {
  const events: SyscallEvent[] = [];
  const time = Date.now();
  for (const [key, value] of entries) {
    const match = /^(\d+),(\d+)$/.exec(key);
    if (match === null || typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      recordProblem(stats, { where: `${COUNTERS_MAP}[${key}]`, reason: 'expected [pid, id] = count' });
      continue;
    }
    const nr = Number(match[2]);
    if (nr >= COMPAT_KEY_OFFSET) continue; // never written: compat calls are sent one by one
    events.push(
      withSyscallName({
        source: 'ebpf',
        host,
        time,
        pid: Number(match[1]),
        arch: abiOf(false, nr, arch),
        nr,
        count: value,
      }),
    );
  }
  return events;
}

/** A bounded queue between bpftrace's output and the consumer; overflow is counted as lost. */
class EventQueue {
  private readonly items: SyscallEvent[] = [];
  private wake: (() => void) | undefined;
  ended = false;

  constructor(private readonly stats: SourceStats) {}

  push(events: readonly SyscallEvent[]): void {
    for (const event of events) {
      if (this.items.length >= MAX_QUEUED_EVENTS) this.stats.lost += 1;
      else {
        this.items.push(event);
        this.stats.events += 1;
      }
    }
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  take(): SyscallEvent[] {
    return this.items.splice(0, this.items.length);
  }

  waitForMore(): Promise<void> {
    return this.items.length > 0 || this.ended
      ? Promise.resolve()
      : new Promise((resolve) => (this.wake = resolve));
  }
}

/** Streams host-wide events from eBPF until `signal` aborts (bpftrace is stopped) or bpftrace ends. */
export async function* streamEbpfEvents(options: EbpfStreamOptions): AsyncGenerator<SyscallEvent> {
  const arch = hostArch();
  const stats = options.stats;
  const queue = new EventQueue(stats);
  const program = streamingProgram(
    quietNumbers(options.allowedNumbers, arch),
    arch,
    options.countersIntervalSeconds ?? 10,
    process.pid,
  );
  let printed = 0;
  const run = new BpftraceRun({
    program,
    stats,
    ...(options.pathVariable !== undefined ? { pathVariable: options.pathVariable } : {}),
    onPrintf: (text) => {
      printed += 1;
      const event = parseStreamLine(text, `bpftrace printf ${printed}`, arch, options.host, stats);
      if (event !== undefined) queue.push([event]);
    },
    onMap: (name, entries) => {
      if (name === COUNTERS_MAP) queue.push(counterEvents(entries, arch, options.host, stats));
    },
  });
  void run.finished.then(() => queue.end());
  const stop = (): void => void run.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    await run.attached;
    options.onAttached?.();
    if (options.signal?.aborted) stop();
    while (true) {
      await queue.waitForMore();
      const events = queue.take();
      for (const event of events) yield event;
      if (queue.ended && events.length === 0) break;
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    run.kill(); // the consumer stopped early: bpftrace must not outlive it
  }
}
