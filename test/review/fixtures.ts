/** Shared fixtures for the review tests: the fixture policy and traces, and crafted trace entries. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  mergeTraces,
  readTrace,
  TRACE_FORMAT,
  type Trace,
  type TraceDecision,
  type TraceEntry,
} from '../../src/learn/trace.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { parseBaseline } from '../../src/review/baseline.js';
import { buildReview, type ReviewReport } from '../../src/review/review-model.js';
import { syscallNumber } from '../../src/syscalls/arch.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/review/', import.meta.url));
export const POLICY_FILE = `${FIXTURES}policy.yaml`;
export const TRACE_FILES = [`${FIXTURES}trace-week1.json`, `${FIXTURES}trace-week2.json`];
export const PREVIOUS_FILE = `${FIXTURES}previous-review.json`;
/** "Today" for every fixture review. */
export const NOW = new Date('2026-12-04T15:00:00Z');
export const HOSTILE_EXE = '[<script>alert(1)</script>]';
export const HOSTILE_CONTAINER = 'ctr-"><img src=x onerror=alert(2)>';

/** The review of the fixture policy and traces, compared with the fixture's previous review. */
export async function fixtureReview(): Promise<{ report: ReviewReport; policy: ResolvedPolicy }> {
  const policy = await loadPolicy(POLICY_FILE);
  const trace = mergeTraces(await Promise.all(TRACE_FILES.map((file) => readTrace(file))));
  const baseline = parseBaseline(await readFile(PREVIOUS_FILE, 'utf8'), PREVIOUS_FILE, policy);
  const report = buildReview({
    policy,
    policyFile: 'policy.yaml',
    trace,
    traceFiles: ['trace-week1.json', 'trace-week2.json'],
    now: NOW,
    windowDays: 90,
    upgraded: false,
    baseline,
  });
  return { report, policy };
}

/** A crafted x86_64 trace entry with calls on the given days (all `decision` unless given). */
export function craftedEntry(
  exe: string,
  syscall: string,
  perDay: Record<string, number>,
  decisions?: Partial<Record<TraceDecision, number>>,
): TraceEntry {
  const days = Object.keys(perDay).sort();
  const count = Object.values(perDay).reduce((sum, calls) => sum + calls, 0);
  return {
    exe,
    abi: 'x86_64',
    syscall,
    nr: syscallNumber('x86_64', syscall)!,
    args: [],
    count,
    firstSeen: Date.parse(`${days[0]}T10:00:00Z`),
    lastSeen: Date.parse(`${days[days.length - 1]}T10:00:00Z`),
    runs: 1,
    decisions: decisions ?? { allow: count },
    containers: [],
    perDay,
  };
}

/** A one-recording trace of crafted entries. */
export function craftedTrace(entries: TraceEntry[]): Trace {
  return {
    format: TRACE_FORMAT,
    runs: 1,
    hosts: [],
    sources: [],
    start: Math.min(...entries.map((entry) => entry.firstSeen)),
    end: Math.max(...entries.map((entry) => entry.lastSeen)),
    entries,
  };
}
