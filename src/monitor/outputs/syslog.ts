/**
 * Syslog alert sink: RFC 5424 messages over UDP (RFC 5426), one datagram per alert, default
 * 127.0.0.1:514. The rule id is the MSGID, the alert's facts go in structured data
 * `[sysfence@32473 ...]` (32473 is the example enterprise number RFC 5612 reserves for documentation)
 * and the human sentence is the MSG.
 *
 *   const sink = await SyslogSink.open({ host: '127.0.0.1', port: 514 });
 *   sink.emit(alert); await sink.close();
 *
 * Not supported: the unix datagram socket /dev/log. Node's dgram module has no AF_UNIX datagram
 * sockets and the project keeps FFI inside src/enforce; point journald/rsyslog's UDP input at
 * 127.0.0.1:514 instead (imudp). Exe, comm and container come from the watched process, so every field
 * is stripped of control characters: a crafted process name cannot forge a second log line.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import type { Alert, Severity } from '../alert.js';
import { emptySinkStats, type AlertSink, type SinkStats } from './sink.js';

export interface SyslogOptions {
  readonly host?: string;
  readonly port?: number;
  /** Syslog facility number (default 10, authpriv: alerts name processes and paths). */
  readonly facility?: number;
  readonly appName?: string;
  /** HOSTNAME field (default: this machine's name). */
  readonly hostname?: string;
  /** Largest datagram sent (default 2048, the size RFC 5426 says every receiver must accept). */
  readonly maxBytes?: number;
}

/** RFC 5424 severities: critical → 2 (crit), high → 3 (err), warning → 4, info → 6. */
const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = { critical: 2, high: 3, warning: 4, info: 6 };

const ENTERPRISE_SD_ID = 'sysfence@32473';

/** Replaces control characters (including newlines) so one alert stays one line. */
function withoutControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** A header field: printable ASCII without spaces, at most `max` characters, '-' when empty. */
function headerField(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** An SD-PARAM value: `"`, `\` and `]` escaped as RFC 5424 section 6.3.3 requires. */
function paramValue(value: string): string {
  return withoutControls(value).replace(/[\\"\]]/g, (character) => `\\${character}`);
}

/** The alert as one RFC 5424 message (without any transport framing). */
export function formatSyslogMessage(alert: Alert, options: SyslogOptions = {}): string {
  const priority = (options.facility ?? 10) * 8 + SYSLOG_SEVERITY[alert.severity];
  const params: [string, string][] = [
    ['rule', alert.rule],
    ['severity', alert.severity],
    ['host', alert.host],
    ['pid', String(alert.pid)],
    ['exe', alert.exe],
    ['container', alert.container],
    ['response', alert.response],
    ['complete', String(alert.complete)],
    ['dryRun', String(alert.dryRun)],
  ];
  const data = `[${ENTERPRISE_SD_ID} ${params.map(([name, value]) => `${name}="${paramValue(value)}"`).join(' ')}]`;
  const header = [
    `<${priority}>1`,
    new Date(alert.time).toISOString(),
    headerField(options.hostname ?? hostname(), 255),
    headerField(options.appName ?? 'sysfence', 48),
    headerField(String(process.pid), 128),
    headerField(alert.rule, 32),
  ].join(' ');
  return `${header} ${data} ${withoutControls(alert.message)}`;
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1; // back off continuation bytes
  return bytes.subarray(0, end);
}

export class SyslogSink implements AlertSink {
  readonly stats: SinkStats = emptySinkStats();

  private constructor(
    private readonly socket: Socket,
    private readonly options: SyslogOptions,
  ) {
    // A connected UDP socket reports the receiver's ICMP "port unreachable" as an error event;
    // unhandled, it would crash the monitor, so it is counted instead.
    socket.on('error', () => {
      this.stats.failures += 1;
    });
  }

  /** Opens a UDP socket for the configured receiver. */
  static async open(options: SyslogOptions = {}): Promise<SyslogSink> {
    const socket = createSocket(isIPv6(options.host ?? '') ? 'udp6' : 'udp4');
    socket.unref(); // an idle syslog socket must not keep the process alive
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(options.port ?? 514, options.host ?? '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new SyslogSink(socket, options);
  }

  /** Sends one datagram; a send error is counted (UDP gives no delivery guarantee anyway). */
  emit(alert: Alert): Promise<void> {
    const datagram = truncateUtf8(formatSyslogMessage(alert, this.options), this.options.maxBytes ?? 2048);
    return new Promise((resolve) => {
      this.socket.send(datagram, (error) => {
        if (error) {
          this.stats.failures += 1;
          this.stats.dropped += 1;
        } else {
          this.stats.sent += 1;
        }
        resolve();
      });
    });
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
