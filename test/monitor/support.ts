/** Shared helpers for the monitor tests: fixture replays through the real pipeline. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAnyPolicy } from '../../src/formats/load.js';
import type { Alert } from '../../src/monitor/alert.js';
import { MonitorPipeline, type MonitorSummary, type PipelineOptions } from '../../src/monitor/pipeline.js';
import { ProcessIdentities } from '../../src/monitor/process-identity.js';
import { defaultMonitorConfig, type MonitorConfig } from '../../src/monitor/rules/config.js';
import { parseEventJson, type SyscallEvent } from '../../src/sources/event.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { FIXTURE_DIR } from '../fixtures/monitor/make-traces.js';

export const POLICY_PATH = join(FIXTURE_DIR, 'policy.yaml');

/** The events of a committed fixture trace. */
export function readTrace(name: string): SyscallEvent[] {
  const path = join(FIXTURE_DIR, `${name}.jsonl`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => parseEventJson(line, `${path}:${index + 1}`));
}

export interface Replay {
  readonly alerts: Alert[];
  readonly summary: MonitorSummary;
}

/**
 * Runs events through a pipeline whose identity reader finds no live process: a replay of recorded
 * events must never act on whatever runs on this machine now.
 */
export async function replay(
  events: readonly SyscallEvent[],
  config: MonitorConfig = defaultMonitorConfig(),
  extra: Partial<PipelineOptions> = {},
): Promise<Replay> {
  const { policy } = await loadAnyPolicy(POLICY_PATH);
  const alerts: Alert[] = [];
  const pipeline = new MonitorPipeline({
    config,
    context: { policy },
    identities: new ProcessIdentities(() => undefined),
    sinks: [{ emit: (alert) => void alerts.push(alert), close: () => Promise.resolve() }],
    ...extra,
  });
  for (const event of events) pipeline.accept(event);
  const summary = await pipeline.finish();
  return { alerts, summary };
}

/** [rule, pid] of each alert, sorted, for exact comparison. */
export function alertKeys(alerts: readonly Alert[]): [string, number][] {
  return alerts
    .map((alert): [string, number] => [alert.rule, alert.pid])
    .sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
}

/** The trace with neighbouring events swapped where they are less than `withinMs` apart. */
export function shuffleLocally(events: readonly SyscallEvent[], withinMs: number): SyscallEvent[] {
  const shuffled = [...events];
  for (let index = 0; index + 1 < shuffled.length; index += 2) {
    const first = shuffled[index] as SyscallEvent;
    const second = shuffled[index + 1] as SyscallEvent;
    if (second.time - first.time < withinMs) {
      shuffled[index] = second;
      shuffled[index + 1] = first;
    }
  }
  return shuffled;
}

/** A hand-made x86_64 event for unit tests (the syscall's number is looked up). */
export function syscallEvent(
  fields: Partial<SyscallEvent> & { readonly pid: number; readonly syscall: string; readonly time: number },
): SyscallEvent {
  const nr = syscallNumber('x86_64', fields.syscall);
  if (nr === undefined) throw new Error(`unknown syscall ${fields.syscall}`);
  return { source: 'audit', host: 'h', arch: 'x86_64', nr, ...fields };
}
