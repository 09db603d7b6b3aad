/**
 * The monitor's streaming pipeline, with bounded memory at every stage:
 *
 *   inputs ──► bounded queue ──► enrich ──► reorder buffer ──► rules ──► breaker ──► alert sinks
 *   (audit,     (live inputs:                (time order within          (engine.ts)      (JSON lines,
 *    ebpf,       drop + count                 a window)                                    webhook, ...)
 *    jsonl)      when full)                         └──► event recorder (store)
 *
 * Nothing is lost silently: queue drops, the sources' lost and malformed counts and late events are all
 * in the summary, and an alert raised while events were missing within its rule's window says
 * `complete: false`.
 */
import type { SourceStats, SyscallEvent } from '../sources/event.js';
import type { Alert } from './alert.js';
import { Breaker, type BreakerRecord } from './breaker.js';
import { RuleEngine } from './engine.js';
import { EventQueue } from './event-queue.js';
import { LossLedger } from './loss-ledger.js';
import type { AlertSink } from './outputs/sink.js';
import { LinuxProcessControl, type ProcessControl } from './process-control.js';
import { ProcessIdentities } from './process-identity.js';
import { ReorderBuffer } from './reorder.js';
import type { MonitorConfig } from './rules/config.js';
import type { RuleContext } from './rules/rule.js';

/** A source of events: audit tail, eBPF stream, JSON lines. */
export interface EventInput {
  /** For the summary: `audit:/var/log/audit/audit.log`, `ebpf`, `stdin`. */
  readonly name: string;
  /** True for sources that must never be slowed down (their events are dropped when the queue is full). */
  readonly live: boolean;
  readonly stats: SourceStats;
  /** Events one at a time, or in batches (one await per batch: the fast path for busy sources). */
  events(): AsyncIterable<SyscallEvent | readonly SyscallEvent[]>;
}

/** Adds context to an event (host identity, container, ...) before the rules see it. */
export interface EventEnricher {
  enrich(event: SyscallEvent): SyscallEvent;
}

/** Keeps events (the SQLite store), in batches of its choosing; `flush` at the end of input. */
export interface EventRecorder {
  record(event: SyscallEvent): void;
  flush(): void | Promise<void>;
}

export interface PipelineOptions {
  readonly config: MonitorConfig;
  readonly context?: RuleContext;
  readonly sinks?: readonly AlertSink[];
  readonly enricher?: EventEnricher;
  readonly recorder?: EventRecorder;
  /** Defaults to the real one; tests of the pipeline's logic alone may pass their own. */
  readonly control?: ProcessControl;
  readonly identities?: ProcessIdentities;
  /** Every breaker action, for the operator's log. */
  readonly onResponse?: (record: BreakerRecord) => void;
}

export interface InputSummary {
  readonly name: string;
  readonly stats: SourceStats;
}

export interface MonitorSummary {
  /** Events the inputs delivered (including dropped ones). */
  readonly eventsIn: number;
  /** Events the rules saw. */
  readonly processed: number;
  /** Events dropped because the queue was full. */
  readonly dropped: number;
  /** Events the sources say were lost before they could be read (kernel, transport). */
  readonly lost: number;
  /** Records the sources could not read. */
  readonly malformed: number;
  /** Events that arrived after later ones had already gone to the rules. */
  readonly late: number;
  readonly alerts: number;
  readonly alertsByRule: Readonly<Record<string, number>>;
  readonly inputs: readonly InputSummary[];
}

interface MissingCount {
  count: number;
  lastTime: number;
}

function isBatch(item: SyscallEvent | readonly SyscallEvent[]): item is readonly SyscallEvent[] {
  return Array.isArray(item);
}

export class MonitorPipeline {
  private readonly engine: RuleEngine;
  private readonly identities: ProcessIdentities;
  private readonly breaker: Breaker;
  private readonly queue: EventQueue;
  private readonly reorder: ReorderBuffer;
  private readonly ledger: LossLedger;
  private readonly pending: Alert[] = [];
  private readonly inputs: EventInput[] = [];
  private readonly release = (event: SyscallEvent): void => this.evaluate(event);
  private eventsIn = 0;
  private processed = 0;
  private dropped = 0;
  private alerts = 0;

  constructor(private readonly options: PipelineOptions) {
    const { pipeline } = options.config;
    const identities = options.identities ?? new ProcessIdentities();
    this.breaker = new Breaker(options.control ?? new LinuxProcessControl(), identities, options.onResponse);
    this.queue = new EventQueue(pipeline.queueCapacity);
    this.reorder = new ReorderBuffer(pipeline.reorderWindowMs, pipeline.reorderMaxEvents);
    const longestWindow = Math.max(
      0,
      ...options.config.rules.map((rule) => rule.definition.windowMs(rule.params)),
    );
    this.ledger = new LossLedger(longestWindow + pipeline.reorderWindowMs);
    this.identities = identities;
    this.engine = new RuleEngine({
      config: options.config,
      context: options.context ?? {},
      breaker: this.breaker,
      emit: (alert) => this.queueAlert(alert),
      lossBetween: (from, to) => this.ledger.lostBetween(from, to),
      slackMs: pipeline.reorderWindowMs,
    });
  }

  /** Reads every input to its end (live inputs: until their iterators finish), then flushes. */
  async run(inputs: readonly EventInput[]): Promise<MonitorSummary> {
    this.inputs.push(...inputs);
    let running = inputs.length;
    const pumps = inputs.map((input) =>
      this.pump(input).finally(() => {
        running -= 1;
        if (running === 0) this.queue.close();
      }),
    );
    if (inputs.length === 0) this.queue.close();
    const consuming = this.consume();
    await Promise.all([...pumps, consuming]);
    return this.finish();
  }

  /** Feeds one event straight in (no queue): for callers that drive the pipeline synchronously. */
  accept(event: SyscallEvent): void {
    this.eventsIn += 1;
    this.admit(event);
  }

  /** Ends input: releases the reorder buffer, delivers alerts, flushes the recorder; returns the summary. */
  async finish(): Promise<MonitorSummary> {
    this.reorder.flush(this.release);
    await this.deliver();
    await this.options.recorder?.flush();
    this.breaker.close();
    return this.summary();
  }

  /** Delivers alerts raised so far to the sinks, in order. */
  async deliver(): Promise<void> {
    while (this.pending.length > 0) {
      const alert = this.pending.shift() as Alert;
      for (const sink of this.options.sinks ?? []) await sink.emit(alert);
    }
  }

  summary(): MonitorSummary {
    const sum = (pick: (stats: SourceStats) => number): number =>
      this.inputs.reduce((total, input) => total + pick(input.stats), 0);
    return {
      eventsIn: this.eventsIn,
      processed: this.processed,
      dropped: this.dropped,
      lost: sum((stats) => stats.lost),
      malformed: sum((stats) => stats.malformed),
      late: this.reorder.late,
      alerts: this.alerts,
      alertsByRule: Object.fromEntries(this.engine.alertsByRule),
      inputs: this.inputs.map((input) => ({ name: input.name, stats: input.stats })),
    };
  }

  private async pump(input: EventInput): Promise<void> {
    const missing = { count: input.stats.lost + input.stats.malformed, lastTime: 0 };
    for await (const item of input.events()) {
      for (const event of isBatch(item) ? item : [item]) {
        if (!this.enqueue(input, event, missing)) await this.queue.put(event);
      }
    }
    this.noteMissing(input, missing);
  }

  /**
   * Queues one event; a live input's is dropped (and counted) when the queue is full. False when a
   * finite input's event must wait for room (the caller awaits `put`): files lose nothing.
   */
  private enqueue(input: EventInput, event: SyscallEvent, missing: MissingCount): boolean {
    this.eventsIn += 1;
    missing.lastTime = event.time;
    this.noteMissing(input, missing);
    if (this.queue.offer(event)) return true;
    if (!input.live) return false;
    this.dropped += 1;
    this.ledger.record(event.time, 1);
    return true;
  }

  /** Dates a loss the source noticed (lost or unreadable records) by the latest event time seen. */
  private noteMissing(input: EventInput, missing: MissingCount): void {
    const now = input.stats.lost + input.stats.malformed;
    if (now === missing.count) return;
    this.ledger.record(missing.lastTime, now - missing.count);
    missing.count = now;
  }

  private async consume(): Promise<void> {
    for (;;) {
      let event = this.queue.take();
      while (event !== undefined) {
        this.admit(event);
        event = this.queue.take();
      }
      await this.deliver();
      if (this.queue.finished) return;
      await this.queue.waitForEvents();
    }
  }

  private admit(event: SyscallEvent): void {
    const enriched = this.options.enricher?.enrich(event) ?? event;
    this.identities.observe(enriched);
    this.reorder.push(enriched, this.release);
  }

  private evaluate(event: SyscallEvent): void {
    this.processed += 1;
    this.options.recorder?.record(event);
    this.engine.process(event);
  }

  private queueAlert(alert: Alert): void {
    if (alert.response !== 'thaw' && alert.response !== 'none') this.alerts += 1;
    this.pending.push(alert);
    // A thaw arrives from a timer, outside the consume loop: deliver it now.
    if (alert.response === 'thaw' || alert.response === 'none') void this.deliver();
  }
}
