/**
 * Benchmark: the run-time cost per system call of sysfence's filter for Docker's default profile against
 * libseccomp's filter for the same profile, with no filter as the baseline.
 *
 * One C loop (bench/enforce-loop.c, built here with gcc) loads each filter from raw BPF, so only the filter
 * differs between runs. Three calls: getppid (allowed, no argument checks: the kernel's action cache,
 * 5.11+, skips the filter for it under both), personality(0xffffffff) (allowed after an argument check)
 * and keyctl (denied by the profile with EPERM). sysfence is measured twice: the policy program alone,
 * and as `sysfence run` installs it, behind the exec gate (src/enforce/seccomp.ts).
 *
 *   npm run bench:enforce        (node dist/bench/enforce.js [--iterations N] [--repeats R])
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/bpf/compiler.js';
import { encodeProgram, type Program } from '../src/bpf/insn.js';
import { gateProgram } from '../src/enforce/seccomp.js';
import { loadAnyPolicy } from '../src/formats/load.js';
import { hostArch, syscallNumber } from '../src/syscalls/arch.js';
import { libseccompCompile, libseccompUnavailable, specFromPolicy } from './peers/libseccomp.js';
import { dockerDefaultProfilePath } from './docker-profile.js';

/** Any plausible user-space address: the gate compares it, nothing dereferences it. */
const GATE_ADDRESS = 0x7f00_1234_5678n;

interface Case {
  readonly label: string;
  readonly syscall: string;
  readonly args: readonly bigint[];
}

const CASES: readonly Case[] = [
  { label: 'getppid (allowed, no args)', syscall: 'getppid', args: [] },
  { label: 'personality(0xffffffff) (arg-checked)', syscall: 'personality', args: [0xffffffffn] },
  { label: 'keyctl (denied, EPERM)', syscall: 'keyctl', args: [0xffffffffn] },
];

type Variant = 'none' | 'sysfence' | 'sysfence+gate' | 'libseccomp';
const VARIANTS: readonly Variant[] = ['none', 'sysfence', 'sysfence+gate', 'libseccomp'];

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive integer`);
  return value;
}

/** enforce-loop.c from the source tree, or from dist/bench (tsc does not copy it). */
function loopSource(): string {
  const candidates = ['./enforce-loop.c', '../../bench/enforce-loop.c'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`enforce-loop.c not found; looked at ${candidates.join(', ')}`);
  return found;
}

function buildLoop(dir: string): string {
  const binary = join(dir, 'enforce-loop');
  const gcc = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', binary, loopSource()], { encoding: 'utf8' });
  if (gcc.error) throw new Error(`the benchmark needs gcc: apt-get install -y gcc (${gcc.error.message})`);
  if (gcc.status !== 0) throw new Error(`gcc failed on enforce-loop.c:\n${gcc.stderr}`);
  return binary;
}

async function filters(dir: string): Promise<ReadonlyMap<Variant, string>> {
  const arch = hostArch();
  const { policy } = await loadAnyPolicy(dockerDefaultProfilePath(), { arch });
  const ours = compile(policy, { arch }).program;
  // Names libseccomp 2.5.4 does not know (the newest syscalls) are left out of its filter.
  const peer = libseccompCompile(specFromPolicy(policy, { optimize: 2, unknownSyscalls: 'skip' })).program;
  const programs: ReadonlyArray<readonly [Variant, Program]> = [
    ['sysfence', ours],
    ['sysfence+gate', gateProgram(ours, arch, GATE_ADDRESS)],
    ['libseccomp', peer],
  ];
  const files = new Map<Variant, string>([['none', 'none']]);
  for (const [variant, program] of programs) {
    const file = join(dir, `${variant}.bpf`);
    writeFileSync(file, encodeProgram(program));
    files.set(variant, file);
    process.stdout.write(`${variant.padEnd(14)} ${program.length} instructions\n`);
  }
  return files;
}

function measure(loop: string, filter: string, testCase: Case, iterations: number): number {
  const nr = syscallNumber(hostArch(), testCase.syscall);
  if (nr === undefined) throw new Error(`no ${testCase.syscall} on ${hostArch()}`);
  const args = [filter, '5', String(iterations), String(nr), ...testCase.args.map(String)];
  const run = spawnSync(loop, args, { encoding: 'utf8' });
  const match = /ns_per_call=([\d.]+)/.exec(run.stdout);
  if (run.status !== 0 || !match)
    throw new Error(`enforce-loop ${args.join(' ')} failed: ${run.stderr || run.signal}`);
  return Number(match[1]);
}

function ratio(ours: number, theirs: number): string {
  return theirs > 0 ? (ours / theirs).toFixed(2) : 'n/a';
}

async function main(): Promise<void> {
  const missing = libseccompUnavailable();
  if (missing !== undefined) throw new Error(missing);
  const iterations = option('iterations', 200_000);
  const repeats = option('repeats', 3);
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-bench-enforce-'));
  try {
    const loop = buildLoop(dir);
    const files = await filters(dir);
    // Best of `repeats` interleaved passes, so drift in machine load hits every variant alike.
    const best = new Map<string, number>();
    for (let pass = 0; pass < repeats; pass++) {
      for (const testCase of CASES) {
        for (const variant of VARIANTS) {
          const ns = measure(loop, files.get(variant) as string, testCase, iterations);
          const key = `${testCase.label}|${variant}`;
          best.set(key, Math.min(best.get(key) ?? Infinity, ns));
        }
      }
    }
    process.stdout.write(
      `\nns per call (best of ${repeats}×5 rounds of ${iterations} calls); overhead = filtered − none ` +
        '(n/a where a denied call, which never runs, is cheaper than the unfiltered one)\n',
    );
    const header = ['call', ...VARIANTS, 'sysfence/libseccomp', 'overhead ratio', 'with gate/libseccomp'];
    const rows = CASES.map((testCase) => {
      const ns = (variant: Variant): number => best.get(`${testCase.label}|${variant}`) ?? NaN;
      const overhead = (variant: Variant): number => ns(variant) - ns('none');
      return [
        testCase.label,
        ...VARIANTS.map((variant) => ns(variant).toFixed(1)),
        ratio(ns('sysfence'), ns('libseccomp')),
        overhead('libseccomp') >= 1 ? ratio(overhead('sysfence'), overhead('libseccomp')) : 'n/a',
        ratio(ns('sysfence+gate'), ns('libseccomp')),
      ];
    });
    printTable([header, ...rows]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const row of rows)
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}\n`);
}

await main();
