/**
 * Benchmark: events per second through the monitor, on one core, side by side with the plain parse rate
 * of the same input in the same run:
 *
 *   parse only         JSON lines → SyscallEvent (parseEventJson)      [and audit lines, AuditParser]
 *   monitor            parse → enrich (/proc, cached) → reorder → 7 rules → breaker
 *   monitor + store    the same, plus every event into SQLite (batched transactions)
 *
 * The events imitate a busy web host: workers of live processes on this machine (so enrichment reads
 * /proc as in production), a web-server syscall mix with arguments, a few denied calls. The monitor runs
 * as a live source (drops allowed when the queue is full), and the drops are printed: the target is
 * >= 100,000 events/s with zero drops. Benchmarks inform; it exits 0 once it has measured.
 *
 *   npm run bench:monitor        (node dist/bench/monitor-throughput.js [--events N])
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Enricher } from '../src/monitor/enrich.js';
import { MonitorPipeline, type EventInput, type MonitorSummary } from '../src/monitor/pipeline.js';
import { defaultMonitorConfig } from '../src/monitor/rules/config.js';
import { StoreRecorder } from '../src/monitor/store-recorder.js';
import { retToAction, SECCOMP_RET } from '../src/policy/action.js';
import { parsePolicyText } from '../src/policy/load.js';
import { AuditParser } from '../src/sources/audit.js';
import {
  emptySourceStats,
  eventToJson,
  parseEventJson,
  type SourceStats,
  type SyscallEvent,
} from '../src/sources/event.js';
import { syscallNumber } from '../src/syscalls/arch.js';
import { EventStore } from '../src/store/event-store.js';

const TARGET_EVENTS_PER_SECOND = 100_000;
const DEFAULT_EVENTS = 300_000;
const MIX: readonly (readonly [string, number])[] = [
  ['epoll_wait', 20],
  ['read', 18],
  ['write', 14],
  ['recvfrom', 8],
  ['sendto', 6],
  ['openat', 6],
  ['close', 8],
  ['fstat', 5],
  ['writev', 5],
  ['futex', 6],
  ['accept4', 3],
  ['mmap', 1],
];
const POLICY = `name: bench
architectures: [x86_64]
defaultAction: errno(EPERM)
rules:
  - syscalls: [epoll_wait, read, write, recvfrom, sendto, close, fstat, writev, futex, accept4, mmap]
    action: allow
    reason: web serving
  - syscalls: [openat]
    action: allow
    args: [{ index: 2, op: masked_eq, mask: 3, value: 0 }]
    reason: read-only opens
`;

function eventCountOption(): number {
  const at = process.argv.indexOf('--events');
  const value = at < 0 ? DEFAULT_EVENTS : Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1000) throw new Error('--events takes a number >= 1000');
  return value;
}

/** Pids of processes alive on this machine, so enrichment does real, cached /proc lookups. */
function livePids(limit: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .slice(0, limit);
}

function syntheticEvents(count: number): SyscallEvent[] {
  const pids = livePids(200);
  const weights = MIX.reduce((total, [, weight]) => total + weight, 0);
  const start = Date.now();
  const events: SyscallEvent[] = [];
  let seed = 12345;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let index = 0; index < count; index++) {
    let pick = random() * weights;
    const [syscall] = MIX.find(([, weight]) => (pick -= weight) < 0) ?? (MIX[0] as readonly [string, number]);
    const pid = pids[index % pids.length] as number;
    const denied = index % 997 === 0;
    events.push({
      source: 'ebpf',
      host: 'bench',
      // Slightly out of order (as per-CPU buffers deliver), 1 µs apart on average.
      time: start + Math.floor(index / 1000) + (index % 7 === 0 ? -1 : 0),
      pid,
      ppid: 1,
      comm: 'nginx',
      exe: '/usr/sbin/nginx',
      arch: 'x86_64',
      nr: syscallNumber('x86_64', syscall) as number,
      syscall,
      args: [3n, 0x7f0000001000n, syscall === 'openat' ? 0o2000000n : 4096n, 0n, 0n, 0n],
      ret: 0n,
      ...(denied ? { action: retToAction(SECCOMP_RET.ERRNO | 1) } : {}),
    });
  }
  return events;
}

function auditLines(events: readonly SyscallEvent[]): string[] {
  return events.map((event, index) => {
    const seconds = (event.time / 1000).toFixed(3);
    return `type=SECCOMP msg=audit(${seconds}:${index + 1}): auid=1000 uid=33 gid=33 ses=4 subj=unconfined pid=${event.pid} comm="nginx" exe="/usr/sbin/nginx" sig=0 arch=c000003e syscall=${event.nr} compat=0 ip=0x7f12a4c3e1b7 code=0x${(event.action === undefined ? SECCOMP_RET.ALLOW : SECCOMP_RET.ERRNO).toString(16)}`;
  });
}

function rate(count: number, startNs: bigint): number {
  return count / (Number(process.hrtime.bigint() - startNs) / 1e9);
}

function measureParse(lines: readonly string[]): number {
  const start = process.hrtime.bigint();
  let parsed = 0;
  for (let index = 0; index < lines.length; index++) {
    parseEventJson(lines[index] as string, 'bench');
    parsed += 1;
  }
  return rate(parsed, start);
}

function measureAuditParse(lines: readonly string[]): { rate: number; events: number } {
  const parser = new AuditParser(emptySourceStats(), { file: 'bench' });
  const out: SyscallEvent[] = [];
  const start = process.hrtime.bigint();
  for (let index = 0; index < lines.length; index++) parser.pushInto(lines[index] as string, index + 1, out);
  out.push(...parser.flush());
  return { rate: rate(lines.length, start), events: out.length };
}

const BATCH = 1000;
/** The kernel-side buffer of a live source (audit backlog, perf ring), in events. */
const KERNEL_RING = 65_536;

/**
 * How a bench input offers its events: `max` as fast as the monitor takes them (lossless, the queue
 * applies back-pressure: the monitor's peak rate), or `paced` as a live source at the target rate
 * (batches on a wall-clock schedule; whatever the monitor cannot keep up with is dropped and counted).
 */
type Offer = 'max' | 'paced';

/**
 * The kernel side of a live source, modelled: events fall due on a wall-clock schedule at the target
 * rate; those not yet read wait in a ring of QUEUE_CAPACITY, and what overflows it is lost (as audit's
 * backlog or a perf ring loses it) and counted in the input's `lost`.
 */
async function* batchesOf<T>(
  items: readonly T[],
  offer: Offer,
  stats: SourceStats,
  parse: (items: readonly T[], first: number) => SyscallEvent[],
): AsyncGenerator<readonly SyscallEvent[]> {
  const start = performance.now();
  let first = 0;
  while (first < items.length) {
    if (offer === 'paced') {
      const due = Math.min(
        items.length,
        Math.floor(((performance.now() - start) / 1000) * TARGET_EVENTS_PER_SECOND),
      );
      if (due - first > KERNEL_RING) {
        stats.lost += due - first - KERNEL_RING;
        first = due - KERNEL_RING;
      }
      if (due < first + BATCH && due < items.length) {
        await sleep(((first + BATCH - due) / TARGET_EVENTS_PER_SECOND) * 1000);
        continue;
      }
    }
    yield parse(items.slice(first, first + BATCH), first);
    first += BATCH;
  }
}

/** Audit lines parsed in batches, as a live audit tail delivers them. */
function auditInput(lines: readonly string[], offer: Offer): EventInput {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, { file: 'bench' });
  return {
    name: 'bench-audit',
    live: offer === 'paced',
    stats,
    async *events() {
      yield* batchesOf(lines, offer, stats, (batch, first) => {
        const out: SyscallEvent[] = [];
        batch.forEach((line, index) => parser.pushInto(line, first + index + 1, out));
        return out;
      });
      yield parser.flush();
    },
  };
}

/** JSON lines parsed in batches. */
function jsonLinesInput(lines: readonly string[], offer: Offer): EventInput {
  const stats = emptySourceStats();
  return {
    name: 'bench-jsonl',
    live: offer === 'paced',
    stats,
    events: () =>
      batchesOf(lines, offer, stats, (batch) => batch.map((line) => parseEventJson(line, 'bench'))),
  };
}

interface Setup {
  readonly label: string;
  readonly input: (offer: Offer) => EventInput;
  readonly enrich: boolean;
  readonly store: boolean;
}

interface Measured {
  readonly rate: number;
  readonly summary: MonitorSummary;
  readonly stored: number;
}

async function measureMonitor(setup: Setup, count: number, offer: Offer): Promise<Measured> {
  const policy = await parsePolicyText(POLICY, 'bench-policy.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-bench-'));
  const store = setup.store ? EventStore.open(join(dir, 'monitor.db')) : undefined;
  const recorder = store === undefined ? undefined : new StoreRecorder(store);
  try {
    const pipeline = new MonitorPipeline({
      config: defaultMonitorConfig(),
      context: { policy },
      ...(setup.enrich ? { enricher: new Enricher() } : {}),
      ...(recorder === undefined ? {} : { recorder, sinks: [recorder] }),
    });
    const start = process.hrtime.bigint();
    const summary = await pipeline.run([setup.input(offer)]);
    return { rate: rate(count, start), summary, stored: recorder?.committedEvents ?? 0 };
  } finally {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function formatRate(value: number): string {
  return `${Math.round(value).toLocaleString('en-US').padStart(11)} events/s`;
}

async function main(): Promise<void> {
  const count = eventCountOption();
  const events = syntheticEvents(count);
  const lines = events.map(eventToJson);
  const audit = auditLines(events);
  const setups: Setup[] = [
    {
      label: 'audit → rules              ',
      input: (offer) => auditInput(audit, offer),
      enrich: false,
      store: false,
    },
    {
      label: 'audit → enrich → rules     ',
      input: (offer) => auditInput(audit, offer),
      enrich: true,
      store: false,
    },
    {
      label: 'audit → enrich → rules → db',
      input: (offer) => auditInput(audit, offer),
      enrich: true,
      store: true,
    },
    {
      label: 'jsonl → enrich → rules     ',
      input: (offer) => jsonLinesInput(lines, offer),
      enrich: true,
      store: false,
    },
  ];
  // Warm up the JIT on a slice so the first column is not penalised.
  measureParse(lines.slice(0, 20_000));
  measureAuditParse(audit.slice(0, 20_000));
  const warmUp = audit.slice(0, 20_000);
  await measureMonitor(
    { ...(setups[1] as Setup), input: (offer) => auditInput(warmUp, offer) },
    warmUp.length,
    'max',
  );

  const parseRate = measureParse(lines);
  const auditParse = measureAuditParse(audit);
  const target = TARGET_EVENTS_PER_SECOND.toLocaleString('en-US');
  console.log(
    `monitor throughput, ${count.toLocaleString('en-US')} events, one core (node ${process.version})`,
  );
  console.log(`  parse only, JSON lines          ${formatRate(parseRate)}`);
  console.log(
    `  parse only, audit lines         ${formatRate(auditParse.rate)}   (${auditParse.events} events)`,
  );
  console.log(
    `  peak rate (lossless input)                                   | live input offered at ${target}/s`,
  );
  for (const setup of setups) {
    const peak = await measureMonitor(setup, count, 'max');
    const live = await measureMonitor(setup, count, 'paced');
    const peer = setup.label.startsWith('audit') ? auditParse.rate : parseRate;
    const missed = live.summary.dropped + live.summary.lost;
    const verdict = peak.rate >= TARGET_EVENTS_PER_SECOND && missed === 0 ? 'PASS' : 'MISS';
    console.log(
      `  ${setup.label}     ${formatRate(peak.rate)} (${(peak.rate / peer).toFixed(2)}x parse, ` +
        `${peak.summary.alerts} alerts${peak.stored > 0 ? `, ${peak.stored} stored` : ''})` +
        ` | dropped ${live.summary.dropped}, lost ${live.summary.lost}, late ${live.summary.late}   ${verdict}`,
    );
  }
  console.log(`  target: >= ${target} events/s on one core with 0 drops`);
}

await main();
