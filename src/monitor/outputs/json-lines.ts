/**
 * JSON-lines alert sink: one `alertToJsonLine` per line, to stdout or a file (appended, created 0600:
 * alerts name executables and containers, which an unprivileged reader should not see).
 *
 *   new JsonLinesSink(process.stdout)            // does not close stdout
 *   await JsonLinesSink.toFile('/var/log/sysfence/alerts.jsonl')
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { alertToJsonLine, type Alert } from '../alert.js';
import type { AlertSink } from './sink.js';

export class JsonLinesSink implements AlertSink {
  /** @param ownsStream whether `close` ends the stream (a file) or leaves it open (stdout). */
  constructor(
    private readonly stream: Writable,
    private readonly ownsStream = false,
  ) {}

  /** Opens `path` for appending and returns a sink that closes it. */
  static async toFile(path: string): Promise<JsonLinesSink> {
    const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    await once(stream, 'open');
    return new JsonLinesSink(stream, true);
  }

  /** Writes the alert's line; waits for drain when the stream is backed up, so memory stays bounded. */
  async emit(alert: Alert): Promise<void> {
    if (!this.stream.write(`${alertToJsonLine(alert)}\n`)) await once(this.stream, 'drain');
  }

  /** Ends the stream when the sink owns it, waiting until everything is written. */
  async close(): Promise<void> {
    if (!this.ownsStream) return;
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
