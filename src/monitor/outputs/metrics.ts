/**
 * Prometheus metrics: a small registry of counters and gauges the pipeline updates, rendered in the text
 * exposition format (version 0.0.4), and an HTTP endpoint serving it.
 *
 *   const metrics = new MonitorMetrics();
 *   metrics.events.inc();                               // sysfence_events_total
 *   metrics.eventsDropped.inc(n);                       // sysfence_events_dropped_total
 *   metrics.alerts.inc(1, { rule: alert.rule });        // sysfence_alerts_total{rule="..."}
 *   metrics.setBreakerState('open');                    // sysfence_breaker_state{state="open"} 1, others 0
 *   metrics.sourceLost.setTotal(stats.lost);            // sysfence_source_lost_total (mirrors a source's count)
 *   const server = await serveMetrics(metrics.registry, { port: 9464 });  // GET /metrics; server.close()
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Label name → value. */
export type Labels = Readonly<Record<string, string>>;

type MetricType = 'counter' | 'gauge';

/** Escapes a label value as the exposition format requires (backslash, quote, newline). */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}` with sorted names, so one label set always has one key. */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return '';
  return `{${names.map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`).join(',')}}`;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One metric family: its samples keyed by rendered label set. */
abstract class Metric {
  protected readonly samples = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
  }

  protected key(labels: Labels): string {
    for (const label of Object.keys(labels)) {
      if (!LABEL_NAME.test(label)) throw new Error(`metric ${this.name}: invalid label name "${label}"`);
    }
    return labelKey(labels);
  }

  /** The current value for a label set (0 when never set). */
  value(labels: Labels = {}): number {
    return this.samples.get(this.key(labels)) ?? 0;
  }

  /** HELP, TYPE and one line per sample. */
  render(): string {
    const help = this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    const lines = [`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.samples.size === 0 && this.type === 'counter') lines.push(`${this.name} 0`);
    for (const [key, value] of this.samples) lines.push(`${this.name}${key} ${value}`);
    return lines.join('\n');
  }
}

/** A monotonically increasing count. */
export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }

  /** Adds `by` (≥ 0) to the labelled sample. */
  inc(by = 1, labels: Labels = {}): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name}: cannot add ${by}`);
    const key = this.key(labels);
    this.samples.set(key, (this.samples.get(key) ?? 0) + by);
  }

  /** Mirrors a total kept elsewhere (a source's lost count); a smaller value is ignored, never a reset. */
  setTotal(total: number, labels: Labels = {}): void {
    const key = this.key(labels);
    if (total > (this.samples.get(key) ?? 0)) this.samples.set(key, total);
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }

  /** Sets the labelled sample. */
  set(value: number, labels: Labels = {}): void {
    this.samples.set(this.key(labels), value);
  }
}

/** The metric families one exporter serves. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  /** Registers (or returns the registered) counter `name`. */
  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help), Counter);
  }

  /** Registers (or returns the registered) gauge `name`. */
  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help), Gauge);
  }

  private register<T extends Metric>(
    name: string,
    make: () => T,
    kind: abstract new (...args: never[]) => T,
  ): T {
    const existing = this.metrics.get(name);
    if (existing === undefined) {
      const metric = make();
      this.metrics.set(name, metric);
      return metric;
    }
    if (!(existing instanceof kind))
      throw new Error(`metric ${name} is already registered as a ${existing.type}`);
    return existing;
  }

  /** The whole registry in the Prometheus text exposition format. */
  render(): string {
    return `${[...this.metrics.values()].map((metric) => metric.render()).join('\n')}\n`;
  }
}

/** The states the circuit breaker reports. */
export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** The monitor's metric set, so every part uses the same names. */
export class MonitorMetrics {
  readonly registry = new MetricsRegistry();
  readonly events = this.registry.counter('sysfence_events_total', 'Events read from the sources.');
  readonly eventsDropped = this.registry.counter(
    'sysfence_events_dropped_total',
    'Events the monitor dropped (queues full).',
  );
  readonly alerts = this.registry.counter('sysfence_alerts_total', 'Alerts raised, by rule.');
  readonly breakerState = this.registry.gauge(
    'sysfence_breaker_state',
    'Circuit breaker state (1 = current).',
  );
  readonly sourceLost = this.registry.counter(
    'sysfence_source_lost_total',
    'Events the kernel or transport reported lost (audit lost counter, serial resets).',
  );
  readonly outputDropped = this.registry.counter(
    'sysfence_output_dropped_total',
    'Alerts an output gave up on, by output.',
  );

  /** Marks `state` as current (1) and every other known state 0. */
  setBreakerState(state: string): void {
    for (const known of new Set<string>([...BREAKER_STATES, state])) {
      this.breakerState.set(known === state ? 1 : 0, { state: known });
    }
  }
}

/** A running /metrics endpoint. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics on host:port (default 127.0.0.1, port 0 = any free port). */
export async function serveMetrics(
  registry: MetricsRegistry,
  options: { host?: string; port?: number } = {},
): Promise<MetricsServer> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      .end(registry.render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
