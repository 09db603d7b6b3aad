/**
 * Benchmark: reading an audit log — sysfence's audit source (readAuditFile, streaming every event out)
 * against the audit tools reading the same file: `aureport -if FILE --summary` (parses and groups every
 * record into events) and `ausearch -if FILE --raw` (parses every record, prints them all; output to
 * /dev/null). The log is generated (test/sources/audit-log-generator.ts: SECCOMP records, SYSCALL groups,
 * raw and ENRICHED, kmsg lines, hostile names, cut-short and garbage lines), written to a temp file, and
 * read from the page cache by all three. sysfence is timed in-process; the peers as whole processes (their
 * start-up is a few milliseconds against seconds of reading). Median of N runs each; lines/s and ratios.
 * Target: sysfence ≥ 1.5× aureport's lines/s. Reports and exits 0 once measured (tests assert, benchmarks
 * inform).
 *
 *   npm run bench:audit          (node dist/bench/audit-ingest.js [--lines N] [--runs N])
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAuditFile } from '../src/sources/audit.js';
import { emptySourceStats, type SourceStats } from '../src/sources/event.js';
import { auditLogBytes, generateAuditLog } from '../test/sources/audit-log-generator.js';

const TARGET_RATIO = 1.5;
const INSTALL_HINT = 'apt-get install -y auditd';

function numberOption(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} takes a positive integer`);
  return value;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Measurement {
  readonly label: string;
  readonly seconds: number[];
}

/** One run of sysfence's reader over the file: seconds, and what it read. */
async function timeSysfence(path: string): Promise<{ seconds: number; stats: SourceStats }> {
  const stats = emptySourceStats();
  const start = process.hrtime.bigint();
  let events = 0;
  for await (const event of readAuditFile(path, stats, { unauthenticatedForms: true }))
    if (event.pid >= 0) events += 1;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (events !== stats.events) throw new Error(`streamed ${events} events, stats say ${stats.events}`);
  return { seconds, stats };
}

/** One run of a peer command, output discarded; fails with the install hint when the tool is missing. */
function timePeer(command: string, args: readonly string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.error !== undefined)
    throw new Error(`${command} is needed for this benchmark: ${INSTALL_HINT} (${run.error.message})`);
  // ausearch exits 1 when nothing matched; anything else is a failure to read the file.
  if (run.status !== 0 && run.status !== 1)
    throw new Error(`${command} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return seconds;
}

function formatRate(lines: number, seconds: number): string {
  return `${Math.round(lines / seconds)
    .toLocaleString('en-US')
    .padStart(11)} lines/s`;
}

/** What the generator child reports about the log it wrote. */
interface GeneratedSummary {
  readonly lineCount: number;
  readonly byteCount: number;
  readonly eventCount: number;
  readonly malformed: number;
  readonly lost: number;
}

const WRITE_LOG_FLAG = '--write-log';

/** In the generator child: writes the log to `path` and prints its summary as JSON. */
function writeGeneratedLog(path: string, lineTarget: number): void {
  const { lines, truth } = generateAuditLog({ seed: 1, lines: lineTarget });
  const bytes = auditLogBytes(lines);
  writeFileSync(path, bytes);
  const summary: GeneratedSummary = {
    lineCount: lines.length,
    byteCount: bytes.length,
    eventCount: truth.eventCount,
    malformed: truth.malformedLines.length,
    lost: truth.lost,
  };
  console.log(JSON.stringify(summary));
}

/**
 * Generates the log in a child process: a million generated lines would otherwise leave the measuring
 * process's heap large and fragmented, and the garbage collector would be timed along with the reader.
 */
function generateInChild(path: string, lineTarget: number): GeneratedSummary {
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      WRITE_LOG_FLAG,
      path,
      '--lines',
      String(lineTarget),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`the log generator failed (status ${child.status})`);
  return JSON.parse(child.stdout) as GeneratedSummary;
}

async function main(): Promise<void> {
  const lineTarget = numberOption('--lines', 1_000_000);
  const runs = numberOption('--runs', 5);
  const directory = mkdtempSync(join(tmpdir(), 'sysfence-bench-audit-'));
  const path = join(directory, 'audit.log');
  try {
    const generateStart = Date.now();
    const { lineCount, byteCount, ...truth } = generateInChild(path, lineTarget);
    const lines = { length: lineCount };
    console.log(
      `Audit ingest benchmark: ${lineCount.toLocaleString('en-US')} lines, ${(byteCount / 1e6).toFixed(1)} MB`,
    );
    console.log(
      `  generated in ${((Date.now() - generateStart) / 1000).toFixed(1)} s: ${truth.eventCount} events, ` +
        `${truth.malformed} malformed lines, ${truth.lost} lost; ${runs} runs each (median)`,
    );

    const ours: Measurement = { label: 'sysfence readAuditFile', seconds: [] };
    const aureport: Measurement = { label: 'aureport -if FILE --summary', seconds: [] };
    const ausearch: Measurement = { label: 'ausearch -if FILE --raw', seconds: [] };
    // Warm the page cache and the JIT once before measuring.
    const warm = await timeSysfence(path);
    if (warm.stats.events !== truth.eventCount || warm.stats.malformed !== truth.malformed) {
      throw new Error(
        `sysfence read ${warm.stats.events} events / ${warm.stats.malformed} malformed, truth is ` +
          `${truth.eventCount} / ${truth.malformed}`,
      );
    }
    for (let run = 0; run < runs; run++) {
      ours.seconds.push((await timeSysfence(path)).seconds);
      aureport.seconds.push(timePeer('aureport', ['-if', path, '--summary']));
      ausearch.seconds.push(timePeer('ausearch', ['-if', path, '--raw']));
    }

    console.log('');
    for (const measurement of [ours, aureport, ausearch]) {
      const seconds = median(measurement.seconds);
      console.log(
        `  ${measurement.label.padEnd(30)} ${seconds.toFixed(3).padStart(7)} s ${formatRate(lines.length, seconds)}`,
      );
    }
    const ratio = (peer: Measurement): number => median(peer.seconds) / median(ours.seconds);
    console.log('');
    console.log(`ratios (sysfence lines/s ÷ peer lines/s)`);
    console.log(`  vs aureport ${ratio(aureport).toFixed(2)}x, vs ausearch ${ratio(ausearch).toFixed(2)}x`);
    console.log('');
    const pass = ratio(aureport) >= TARGET_RATIO;
    console.log(`targets`);
    console.log(
      `  ${pass ? 'PASS' : 'MISS'}  sysfence ≥ ${TARGET_RATIO}x aureport's lines/s  (${ratio(aureport).toFixed(2)}x)`,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const writeLogAt = process.argv.indexOf(WRITE_LOG_FLAG);
if (writeLogAt >= 0) writeGeneratedLog(process.argv[writeLogAt + 1]!, numberOption('--lines', 1_000_000));
else await main();
