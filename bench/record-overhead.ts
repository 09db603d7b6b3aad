/**
 * Benchmark: what recording costs a syscall-heavy workload. `dd if=/dev/zero of=/dev/null bs=1 count=N`
 * makes 2N tiny read/write calls; it runs bare, under `sysfence record` (eBPF, counting in the kernel)
 * and under the peer, `strace -f -o /dev/null`.
 *
 * The workload times itself (date before and after dd, inside the recorded shell), so bpftrace's start-up
 * (sysfence releases the command only once the probes are attached) and its map printing at the end are
 * not part of the figure: the number is the slowdown the workload itself sees. A fourth run attaches an
 * empty bpftrace program to the same tracepoint (raw_syscalls:sys_enter): the floor any eBPF recorder
 * pays on this kernel before it does any work. Variants run interleaved, so load drift hits them alike.
 *
 *   npm run bench:record        (node dist/bench/record-overhead.js [--count N] [--repeats R])
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { BpftraceRun } from '../src/sources/ebpf-bpftrace.js';
import { ATTACHED_MARKER } from '../src/sources/ebpf-program.js';
import { emptySourceStats } from '../src/sources/event.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive integer`);
  return value;
}

/** The self-timing workload: nanoseconds spent in dd go to `timeFile`. */
function workload(count: number, timeFile: string): string[] {
  const dd = `dd if=/dev/zero of=/dev/null bs=1 count=${count} 2>/dev/null`;
  return ['/bin/sh', '-c', `s=$(date +%s%N); ${dd}; e=$(date +%s%N); echo $((e - s)) > ${timeFile}`];
}

type Variant = 'none' | 'empty eBPF probe (floor)' | 'sysfence record (eBPF)' | 'strace -f';
const VARIANTS: readonly Variant[] = [
  'none',
  'empty eBPF probe (floor)',
  'sysfence record (eBPF)',
  'strace -f',
];

const EMPTY_PROGRAM = `BEGIN { printf("${ATTACHED_MARKER}\\n"); }\ntracepoint:raw_syscalls:sys_enter { }\n`;

const SILENT = {
  stdout: (): void => undefined,
  stderr: (text: string): void => void process.stderr.write(text),
};

async function runOnce(variant: Variant, command: readonly string[], directory: string): Promise<void> {
  switch (variant) {
    case 'none':
      check(spawnSync(command[0]!, command.slice(1), { stdio: 'inherit' }).status, variant);
      return;
    case 'empty eBPF probe (floor)': {
      const run = new BpftraceRun({ program: EMPTY_PROGRAM, stats: emptySourceStats() });
      await run.attached;
      const status = spawnSync(command[0]!, command.slice(1), { stdio: 'inherit' }).status;
      await run.stop();
      check(status, variant);
      return;
    }
    case 'sysfence record (eBPF)':
      check(await main(['record', '-o', join(directory, 'trace.json'), '--', ...command], SILENT), variant);
      return;
    case 'strace -f':
      check(
        spawnSync('strace', ['-f', '-o', '/dev/null', '--', ...command], { stdio: 'inherit' }).status,
        variant,
      );
      return;
  }
}

function check(status: number | null, variant: Variant): void {
  if (status !== 0) throw new Error(`${variant}: the workload failed (exit ${String(status)})`);
}

/** The best of the runs: on a shared (virtual) machine, noise only ever adds time. */
function best(values: readonly number[]): number {
  return Math.min(...values);
}

async function timeOnce(variant: Variant, count: number, directory: string): Promise<number> {
  const timeFile = join(directory, 'elapsed');
  await runOnce(variant, workload(count, timeFile), directory);
  return Number(readFileSync(timeFile, 'utf8').trim()) / 1e6;
}

/** Best milliseconds per variant; rounds run every variant in turn (strace, the slow peer, once per round too). */
async function measure(count: number, repeats: number, directory: string): Promise<Map<Variant, number>> {
  const samples = new Map<Variant, number[]>(VARIANTS.map((variant) => [variant, []]));
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const variant of VARIANTS) samples.get(variant)!.push(await timeOnce(variant, count, directory));
  }
  return new Map(VARIANTS.map((variant) => [variant, best(samples.get(variant)!)]));
}

async function benchmark(): Promise<void> {
  const count = option('count', 200_000);
  const repeats = option('repeats', 5);
  const directory = mkdtempSync(join(tmpdir(), 'sysfence-bench-record-'));
  try {
    console.log(
      `workload: dd bs=1 count=${count} (${2 * count} read/write calls); best of ${repeats} interleaved runs`,
    );
    const times = await measure(count, repeats, directory);
    const none = times.get('none')!;
    for (const [variant, ms] of times) {
      const perCall = ((ms * 1e6) / (2 * count)).toFixed(0);
      console.log(
        `${variant.padEnd(24)} ${ms.toFixed(1).padStart(9)} ms  ${perCall.padStart(6)} ns/call  ${(ms / none).toFixed(2).padStart(7)}x none`,
      );
    }
    const ebpf = times.get('sysfence record (eBPF)')! / none;
    const strace = times.get('strace -f')! / none;
    const floor = times.get('empty eBPF probe (floor)')! / none;
    console.log(
      `eBPF recording: ${ebpf.toFixed(2)}x (target <= 1.5x; an empty probe alone costs ${floor.toFixed(2)}x here); ` +
        `strace: ${strace.toFixed(0)}x, ${(strace / ebpf).toFixed(0)}x eBPF`,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await benchmark();
