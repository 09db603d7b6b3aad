/**
 * Assembling a running monitor from its options: the policy and rules file, the inputs (`--source`),
 * enrichment (/proc and host identity), the outputs (JSON lines, webhook, syslog, SQLite store,
 * Prometheus /metrics) and the breaker's log. The CLI only parses arguments and calls runMonitor.
 */
import { loadAnyPolicy } from '../formats/load.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { streamEbpfEvents } from '../sources/ebpf-stream.js';
import { emptySourceStats, type SyscallEvent } from '../sources/event.js';
import { hostArch } from '../syscalls/arch.js';
import { EventStore, type RetentionPolicy } from '../store/event-store.js';
import { alertToJsonLine, type Alert } from './alert.js';
import { unconditionallyAllowed } from './allowed-numbers.js';
import { auditInput } from './audit-input.js';
import type { BreakerRecord } from './breaker.js';
import { HostIdentityResolver } from './cloud-metadata.js';
import { Enricher } from './enrich.js';
import { fileInput, streamInput } from './json-input.js';
import { JsonLinesSink } from './outputs/json-lines.js';
import { MonitorMetrics, serveMetrics, type MetricsServer } from './outputs/metrics.js';
import type { AlertSink, SinkStats } from './outputs/sink.js';
import { SyslogSink } from './outputs/syslog.js';
import { WebhookSink } from './outputs/webhook.js';
import { MonitorPipeline, type EventEnricher, type EventInput, type MonitorSummary } from './pipeline.js';
import { defaultMonitorConfig, loadMonitorConfig } from './rules/config.js';
import type { BaselineMemory } from './rules/rule.js';
import { StoreRecorder } from './store-recorder.js';

/** What `--source` names. */
export type SourceSpec =
  | { readonly kind: 'stdin' }
  | { readonly kind: 'jsonl'; readonly path: string }
  | { readonly kind: 'audit'; readonly path: string }
  | { readonly kind: 'ebpf' };

/** A `--source` value that names no source; the message says what would. */
export class SourceSpecError extends Error {
  override readonly name = 'SourceSpecError';
}

const SOURCE_FORMS = 'stdin, jsonl:PATH, audit:PATH or ebpf';

/** Parses `stdin`, `jsonl:PATH`, `audit:PATH` or `ebpf`. */
export function parseSourceSpec(spec: string): SourceSpec {
  if (spec === 'stdin' || spec === 'ebpf') return { kind: spec };
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const path = spec.slice(colon + 1);
  if (colon > 0 && (kind === 'jsonl' || kind === 'audit')) {
    if (path === '') throw new SourceSpecError(`--source ${spec}: missing PATH`);
    return { kind, path };
  }
  throw new SourceSpecError(`unknown --source '${spec}' (expected ${SOURCE_FORMS})`);
}

export interface MonitorRunOptions {
  readonly policyPath: string;
  readonly rulesPath?: string;
  readonly sources: readonly SourceSpec[];
  /** Keep reading files as they grow (false: read to the end, then finish with a summary). */
  readonly follow: boolean;
  /** Append alerts here instead of `writeAlert`. */
  readonly outputPath?: string;
  readonly stateDb?: string;
  /** Days of events and alerts the state database keeps (default DEFAULT_RETENTION). */
  readonly retention?: RetentionPolicy;
  readonly metricsPort?: number;
  readonly webhookUrl?: string;
  readonly syslog?: boolean;
  /** `static:HOST,REGION,ZONE`, `cloud` (any provider), a provider name, `none`. */
  readonly hostIdentity?: string;
  /** Where alert lines go without --output (the CLI's stdout). */
  readonly writeAlert: (line: string) => void;
  /** Operator log lines (breaker actions, warnings). */
  readonly log: (line: string) => void;
  /** Stops following inputs (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/** Everything opened for a run, closed in reverse order at the end. */
class Resources {
  private readonly closers: (() => Promise<void> | void)[] = [];

  add(close: () => Promise<void> | void): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
  }
}

/** Fills in the host when the source did not say (stdin replays, eBPF). */
class HostEnricher implements EventEnricher {
  constructor(
    private readonly host: string,
    private readonly next: EventEnricher | undefined,
  ) {}

  enrich(event: SyscallEvent): SyscallEvent {
    const enriched = this.next?.enrich(event) ?? event;
    return enriched.host === '' && this.host !== '' ? { ...enriched, host: this.host } : enriched;
  }
}

/**
 * /proc describes processes running now: worth asking for live inputs only. A finished file (`--no-follow`)
 * is a record of the past, whose processes are gone or whose pids now name others.
 */
function readsLiveProcesses(options: MonitorRunOptions): boolean {
  return options.follow || options.sources.some((spec) => spec.kind === 'stdin' || spec.kind === 'ebpf');
}

async function resolveHost(spec: string | undefined): Promise<string> {
  if (spec === undefined) return '';
  const resolver = new HostIdentityResolver({ spec: spec === 'cloud' ? 'auto' : spec });
  return (await resolver.get()).instanceId;
}

/** Everything an input may need besides its spec. */
interface InputContext {
  readonly options: MonitorRunOptions;
  readonly store: EventStore | undefined;
  readonly policy: ResolvedPolicy;
  readonly host: string;
}

function ebpfInput(context: InputContext): EventInput {
  const stats = emptySourceStats();
  return {
    name: 'ebpf',
    live: true,
    stats,
    events: () =>
      streamEbpfEvents({
        allowedNumbers: unconditionallyAllowed(context.policy, hostArch()),
        host: context.host,
        stats,
        signal: context.options.signal,
      }),
  };
}

function openInput(spec: SourceSpec, context: InputContext): EventInput {
  const { options, store } = context;
  switch (spec.kind) {
    case 'stdin':
      return streamInput('stdin', process.stdin);
    case 'jsonl':
      return fileInput(spec.path, options.follow, options.signal);
    case 'audit':
      return auditInput({
        path: spec.path,
        follow: options.follow,
        signal: options.signal,
        ...(store ? { store } : {}),
      });
    case 'ebpf':
      return ebpfInput(context);
  }
}

async function openSinks(
  options: MonitorRunOptions,
  resources: Resources,
): Promise<{ sinks: AlertSink[]; stats: Map<string, SinkStats> }> {
  const sinks: AlertSink[] = [];
  const stats = new Map<string, SinkStats>();
  if (options.outputPath === undefined) {
    sinks.push({
      emit: (alert) => options.writeAlert(`${alertToJsonLine(alert)}\n`),
      close: () => Promise.resolve(),
    });
  } else {
    sinks.push(await JsonLinesSink.toFile(options.outputPath));
  }
  if (options.webhookUrl !== undefined) {
    const webhook = new WebhookSink({ url: options.webhookUrl });
    sinks.push(webhook);
    stats.set('webhook', webhook.stats);
  }
  if (options.syslog === true) {
    const syslog = await SyslogSink.open();
    sinks.push(syslog);
    stats.set('syslog', syslog.stats);
  }
  for (const sink of sinks) resources.add(() => sink.close());
  return { sinks, stats };
}

/** The input with every event it yields stored (in the recorder's batches) as it is read. */
function recordingInput(input: EventInput, recorder: StoreRecorder): EventInput {
  return {
    name: input.name,
    live: input.live,
    stats: input.stats,
    async *events() {
      for await (const item of input.events()) {
        if (Array.isArray(item)) for (const event of item as readonly SyscallEvent[]) recorder.record(event);
        else recorder.record(item as SyscallEvent);
        yield item;
      }
    },
  };
}

/** Keeps /metrics current: alert counts as they are raised, totals once a second. */
function metricsSink(metrics: MonitorMetrics): AlertSink {
  return {
    emit: (alert: Alert) => {
      if (alert.response === 'thaw') metrics.setBreakerState('half-open');
      else metrics.alerts.inc(1, { rule: alert.rule });
      if (alert.response === 'freeze' || alert.response === 'kill') metrics.setBreakerState('open');
    },
    close: () => Promise.resolve(),
  };
}

function updateTotals(
  metrics: MonitorMetrics,
  summary: MonitorSummary,
  outputs: ReadonlyMap<string, SinkStats>,
): void {
  metrics.events.setTotal(summary.eventsIn);
  metrics.eventsDropped.setTotal(summary.dropped);
  metrics.sourceLost.setTotal(summary.lost);
  for (const [output, stats] of outputs) metrics.outputDropped.setTotal(stats.dropped, { output });
}

async function startMetrics(
  port: number,
  resources: Resources,
): Promise<{ metrics: MonitorMetrics; server: MetricsServer }> {
  const metrics = new MonitorMetrics();
  metrics.setBreakerState('closed');
  const server = await serveMetrics(metrics.registry, { port });
  resources.add(() => server.close());
  return { metrics, server };
}

function responseLine(record: BreakerRecord): string {
  const mode = record.dryRun ? ' (dry run)' : '';
  return `sysfence monitor: ${record.rule} pid ${record.pid} strike ${record.strike}: ${record.response}${mode}: ${record.detail}\n`;
}

/** Two weeks of events (a log-mode rollout's window), a quarter of alerts (a review period). */
export const DEFAULT_RETENTION: RetentionPolicy = { eventsDays: 14, alertsDays: 90 };

const HOUR_MS = 3_600_000;

/** Deletes rows past the retention windows now and every hour while the monitor runs. */
function keepRetention(store: EventStore, retention: RetentionPolicy, resources: Resources): void {
  store.prune(Date.now(), retention);
  const timer = setInterval(() => store.prune(Date.now(), retention), HOUR_MS);
  timer.unref();
  resources.add(() => clearInterval(timer));
}

/** Learned baselines kept in the store, so a restart resumes judging instead of relearning. */
function storedBaselines(store: EventStore): BaselineMemory {
  return { load: () => store.loadBaselines(), save: (exe, json) => store.saveBaseline(exe, json) };
}

/** Runs the monitor until its inputs end (files without follow, stdin at EOF) or `signal` aborts. */
export async function runMonitor(options: MonitorRunOptions): Promise<MonitorSummary> {
  const { policy, warnings } = await loadAnyPolicy(options.policyPath);
  warnings.forEach((warning) => options.log(`sysfence monitor: warning: ${warning}\n`));
  const config =
    options.rulesPath === undefined ? defaultMonitorConfig() : await loadMonitorConfig(options.rulesPath);
  const resources = new Resources();
  try {
    const host = await resolveHost(options.hostIdentity);
    const store = options.stateDb === undefined ? undefined : EventStore.open(options.stateDb);
    if (store !== undefined) {
      resources.add(() => store.close());
      keepRetention(store, options.retention ?? DEFAULT_RETENTION, resources);
    }
    const { sinks, stats } = await openSinks(options, resources);
    const recorder = store === undefined ? undefined : new StoreRecorder(store);
    if (recorder !== undefined) sinks.push(recorder);
    // Audit inputs store their own events (with the tail's checkpoint); the recorder stores the others'.
    const inputs = options.sources.map((spec) => {
      const input = openInput(spec, { options, store, policy, host });
      return recorder === undefined || spec.kind === 'audit' ? input : recordingInput(input, recorder);
    });
    const flushTimer = recorder === undefined ? undefined : setInterval(() => recorder.flush(), 1000);
    flushTimer?.unref();
    if (flushTimer !== undefined) resources.add(() => clearInterval(flushTimer));
    const metrics =
      options.metricsPort === undefined ? undefined : await startMetrics(options.metricsPort, resources);
    if (metrics !== undefined) sinks.push(metricsSink(metrics.metrics));
    const pipeline = new MonitorPipeline({
      config,
      context: { policy, ...(store === undefined ? {} : { baselines: storedBaselines(store) }) },
      sinks,
      enricher: new HostEnricher(host, readsLiveProcesses(options) ? new Enricher() : undefined),
      onResponse: (record) => options.log(responseLine(record)),
    });
    const timer =
      metrics === undefined
        ? undefined
        : setInterval(() => updateTotals(metrics.metrics, pipeline.summary(), stats), 1000);
    timer?.unref();
    try {
      const summary = await pipeline.run(inputs);
      if (metrics !== undefined) updateTotals(metrics.metrics, summary, stats);
      return summary;
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
  } finally {
    await resources.closeAll();
  }
}
