/**
 * Webhook alert sink: POSTs each alert as a JSON body to one URL, in order, from a bounded queue.
 * A failed delivery (network error, timeout, 5xx, 408, 429) is retried with exponential backoff and
 * full jitter; other 4xx answers are not retried (the request itself is wrong). An alert is dropped,
 * and counted in `stats.dropped`, when the queue is full, when its retries run out, or when `close`
 * times out with it still queued: a dead receiver costs memory up to `maxQueue` alerts, never more.
 *
 *   const sink = new WebhookSink({ url: 'https://hooks.example/sysfence', headers: { authorization: '…' } });
 *   sink.emit(alert);            // returns at once (queued)
 *   await sink.close();          // delivers what is queued, up to closeTimeoutMs
 */
import { alertToJsonLine, type Alert } from '../alert.js';
import { emptySinkStats, type AlertSink, type SinkStats } from './sink.js';

export interface WebhookOptions {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Alerts waiting for delivery, beyond which new ones are dropped (default 1000). */
  readonly maxQueue?: number;
  /** Attempts per alert, the first included (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay before jitter (default 200 ms); doubles each retry up to maxDelayMs. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Per-request timeout (default 5000 ms). */
  readonly timeoutMs?: number;
  /** How long `close` waits for the queue to drain (default 5000 ms). */
  readonly closeTimeoutMs?: number;
  /** Random source in [0, 1) for the jitter; tests pin it. */
  readonly random?: () => number;
}

/** Whether an HTTP status is worth retrying: server errors, request timeout, rate limiting. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^retry)). */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** retry));
}

export class WebhookSink implements AlertSink {
  readonly stats: SinkStats = emptySinkStats();
  private readonly queue: Alert[] = [];
  private worker: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(private readonly options: WebhookOptions) {
    new URL(options.url); // a malformed URL is a configuration error now, not a drop per alert later
  }

  /** Queues the alert (dropping it, counted, when the queue is full) and starts delivery. */
  emit(alert: Alert): void {
    if (this.stop.signal.aborted || this.queue.length >= (this.options.maxQueue ?? 1000)) {
      this.stats.dropped += 1;
      return;
    }
    this.queue.push(alert);
    this.worker ??= this.drain().finally(() => (this.worker = undefined));
  }

  /** Number of alerts waiting. */
  get pending(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    for (let alert = this.queue[0]; alert !== undefined; alert = this.queue[0]) {
      const delivered = await this.deliver(alert);
      this.queue.shift();
      if (delivered) this.stats.sent += 1;
      else this.stats.dropped += 1;
    }
  }

  /** Tries one alert until it is accepted, refused for good, or out of attempts. */
  private async deliver(alert: Alert): Promise<boolean> {
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 0; attempt < attempts && !this.stop.signal.aborted; attempt += 1) {
      if (attempt > 0) await this.sleep(this.retryDelay(attempt - 1));
      const outcome = await this.post(alert);
      if (outcome === 'ok') return true;
      this.stats.failures += 1;
      if (outcome === 'give-up') return false;
    }
    return false;
  }

  private retryDelay(retry: number): number {
    const { baseDelayMs = 200, maxDelayMs = 30_000, random = Math.random } = this.options;
    return backoffDelay(retry, baseDelayMs, maxDelayMs, random);
  }

  private async post(alert: Alert): Promise<'ok' | 'retry' | 'give-up'> {
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'sysfence', ...this.options.headers },
        body: alertToJsonLine(alert),
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.options.timeoutMs ?? 5000)]),
      });
      await response.arrayBuffer(); // read the body so the connection can be reused
      if (response.ok) return 'ok';
      return isRetryableStatus(response.status) ? 'retry' : 'give-up';
    } catch {
      return 'retry';
    }
  }

  /** Waits `ms`, cut short when the sink is closed for good. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.stop.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Delivers the queue for up to closeTimeoutMs, then abandons (and counts) what is left. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 5000);
      });
      await Promise.race([worker, timeout]);
      clearTimeout(timer);
    }
    this.stop.abort();
    await this.worker;
  }
}
