/**
 * `sysfence monitor --policy POLICY --source SOURCE [--rules RULES.yaml] [--no-follow] [outputs...]`:
 * watches syscall events against the policy and the built-in rules, writes alerts as JSON lines, and
 * trips the circuit breaker (freeze / kill) where the rules file says so.
 * Exit status: 0 no alert, 1 alerts were raised, 2 bad usage or input.
 */
import type { MonitorSummary } from '../../monitor/pipeline.js';
import { parseSourceSpec, runMonitor, SourceSpecError, type SourceSpec } from '../../monitor/runtime.js';
import { hasFlag, optionValue, optionValues, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import type { RetentionPolicy } from '../../store/event-store.js';

const USAGE = `usage: sysfence monitor --policy POLICY --source SOURCE [--source SOURCE...] [--rules RULES.yaml]
                        [--no-follow] [--output FILE] [--state-db FILE] [--metrics-port N]
                        [--webhook URL] [--syslog] [--host-identity static:HOST,REGION,ZONE|cloud]
                        [--retention EVENTS_DAYS,ALERTS_DAYS]

Runs the monitor's rules (rate-breaker, baseline-deviation, dropper-exec, spawn-burst, vfork-exec,
ptrace-inject, time-tamper) over syscall events, judged against POLICY (sysfence YAML/JSON or OCI).
  --source stdin        JSON-lines events (sysfence's event format) on standard input
  --source jsonl:PATH   a JSON-lines event file
  --source audit:PATH   auditd's log (followed across rotation; resumes from --state-db)
  --source ebpf         every process's syscalls through eBPF (bpftrace; allowed calls only counted)
  --no-follow           read file sources to their end, print a summary and exit (default: keep
                        reading what is appended, until SIGINT/SIGTERM)
  --rules RULES.yaml    per-rule settings: enabled, dryRun, severity, thresholds, exceptions and the
                        response escalation (alert, freeze, kill); default: every rule, alerts only
  --output FILE         append alerts (JSON lines) to FILE instead of standard output
  --state-db FILE       store events and alerts in SQLite (and the audit tail's position, baselines)
  --retention E,A       with --state-db: keep events E days and alerts A days (default 14,90); older
                        rows are deleted at start and every hour
  --metrics-port N      serve Prometheus metrics on 127.0.0.1:N/metrics
  --webhook URL         POST each alert (JSON) to URL, retried with backoff
  --syslog              send each alert to syslog (RFC 5424 over UDP, 127.0.0.1:514)
  --host-identity SPEC  the host name events without one get: static:HOST,REGION,ZONE, cloud (the
                        instance id from the cloud's metadata service), aws, gcp, azure, alibaba, none
Breaker actions go to standard error as they happen; a summary (events in, dropped, lost, alerts by
rule) at the end. Exit status: 0 no alert; 1 alerts were raised; 2 bad usage or input.
`;

/** The end-of-run lines for standard error. */
export function formatSummary(summary: MonitorSummary): string {
  const byRule = Object.entries(summary.alertsByRule)
    .map(([rule, count]) => `${rule} ${count}`)
    .join(', ');
  const lines = [
    `sysfence monitor: ${summary.eventsIn} events in, ${summary.processed} processed, ${summary.dropped} dropped, ` +
      `${summary.lost} lost, ${summary.malformed} malformed, ${summary.late} late`,
    `sysfence monitor: ${summary.alerts} alerts${byRule === '' ? '' : ` (${byRule})`}`,
  ];
  for (const input of summary.inputs) {
    for (const problem of input.stats.problems)
      lines.push(`sysfence monitor: ${problem.where}: ${problem.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

function sourceSpecs(args: ParsedArgs): SourceSpec[] {
  const specs = optionValues(args, 'source');
  if (specs.length === 0) throw new UsageError('missing --source SOURCE');
  try {
    return specs.map(parseSourceSpec);
  } catch (error) {
    if (error instanceof SourceSpecError) throw new UsageError(error.message);
    throw error;
  }
}

function portOption(args: ParsedArgs): number | undefined {
  const text = optionValue(args, 'metrics-port');
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new UsageError(`--metrics-port takes a port 1..65535, not '${text}'`);
  return port;
}

/** --retention E,A: whole days of events and alerts to keep in the state database. */
function retentionOption(args: ParsedArgs): RetentionPolicy | undefined {
  const text = optionValue(args, 'retention');
  if (text === undefined) return undefined;
  const match = /^(\d{1,5}),(\d{1,5})$/.exec(text);
  const [eventsDays, alertsDays] = [Number(match?.[1]), Number(match?.[2])];
  if (match === null || eventsDays < 1 || alertsDays < 1) {
    throw new UsageError(`--retention takes EVENTS_DAYS,ALERTS_DAYS (whole days, at least 1), not '${text}'`);
  }
  return { eventsDays, alertsDays };
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const policyPath = optionValue(args, 'policy');
  if (policyPath === undefined) throw new UsageError('missing --policy POLICY');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const sources = sourceSpecs(args);
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await runMonitor({
      policyPath,
      rulesPath: optionValue(args, 'rules'),
      sources,
      follow: !hasFlag(args, 'no-follow'),
      outputPath: optionValue(args, 'output'),
      stateDb: optionValue(args, 'state-db'),
      retention: retentionOption(args),
      metricsPort: portOption(args),
      webhookUrl: optionValue(args, 'webhook'),
      syslog: hasFlag(args, 'syslog'),
      hostIdentity: optionValue(args, 'host-identity'),
      writeAlert: io.stdout,
      log: io.stderr,
      signal: abort.signal,
    });
    io.stderr(formatSummary(summary));
    return summary.alerts > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export const monitorCommand: Command = {
  name: 'monitor',
  summary: 'watch syscall events with the built-in rules; alert, freeze or kill',
  usage: USAGE,
  options: [
    { name: 'policy', value: true },
    { name: 'rules', value: true },
    { name: 'source', value: true, repeat: true },
    { name: 'no-follow' },
    { name: 'output', value: true },
    { name: 'state-db', value: true },
    { name: 'metrics-port', value: true },
    { name: 'webhook', value: true },
    { name: 'syslog' },
    { name: 'host-identity', value: true },
    { name: 'retention', value: true },
  ],
  run,
};
