/**
 * Shared by the enforce tests: build the C workload with gcc, write policies to temp files, and run the
 * sysfence CLI from source (through tsx) the way an operator runs `sysfence run`.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '..', '..');
export const CLI_ENTRY = join(here, 'fixtures', 'cli-entry.ts');

let scratch: string | undefined;

/** A temp directory for this test process. */
export function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'sysfence-enforce-'));
  return scratch;
}

const built = new Map<string, string>();

/** Compiles test/helpers/NAME.c with gcc (once per process); fails with an install hint without gcc. */
export function buildHelper(name: string, extraFlags: readonly string[] = []): string {
  const cached = built.get(name);
  if (cached !== undefined) return cached;
  const output = join(scratchDir(), name);
  const result = spawnSync(
    'gcc',
    ['-O2', '-Wall', '-Werror', '-o', output, join(REPO, 'test', 'helpers', `${name}.c`), ...extraFlags],
    {
      encoding: 'utf8',
    },
  );
  if (result.error)
    throw new Error(
      `gcc is needed to build test/helpers/${name}.c: apt-get install -y gcc (${result.error.message})`,
    );
  if (result.status !== 0) throw new Error(`gcc failed on test/helpers/${name}.c:\n${result.stderr}`);
  built.set(name, output);
  return output;
}

/** The C workload every run test drives. */
export function workload(): string {
  return buildHelper('enforce-workload', ['-pthread']);
}

let policyCount = 0;

/** Writes a policy text (YAML or JSON) to a fresh temp file and returns its path. */
export function writePolicy(text: string, extension = 'yaml'): string {
  const path = join(scratchDir(), `policy-${++policyCount}.${extension}`);
  writeFileSync(path, text);
  return path;
}

/** A minimal sysfence policy: the given actions and rules (YAML list items, already indented by 2). */
export function policyYaml(options: {
  readonly defaultAction?: string;
  readonly badArchAction?: string;
  readonly rules?: string;
  readonly extra?: string;
}): string {
  return [
    'name: enforce-test',
    'architectures: [x86_64]',
    `defaultAction: ${options.defaultAction ?? 'allow'}`,
    'unknownAction: errno(ENOSYS)',
    `badArchAction: ${options.badArchAction ?? 'kill_process'}`,
    `rules:${options.rules ? `\n${options.rules}` : ' []'}`,
    options.extra ?? '',
  ].join('\n');
}

export type CliResult = SpawnSyncReturns<string>;

/** Runs `sysfence ARGS...` from source with stdio pipes. */
export function sysfence(
  args: readonly string[],
  options: { readonly input?: string; readonly timeoutMs?: number } = {},
): CliResult {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 30_000,
  });
}

/** `sysfence run --policy POLICY [OPTIONS...] -- COMMAND...`. */
export function runUnder(
  policy: string,
  command: readonly string[],
  options: readonly string[] = [],
): CliResult {
  return sysfence(['run', '--policy', policy, ...options, '--', ...command]);
}

/**
 * runUnder without blocking this event loop, for tests whose own servers must keep answering while the
 * workload runs. stderr is passed through to the test's.
 */
export async function runUnderAsync(
  policy: string,
  command: readonly string[],
): Promise<{ stdout: string; status: number | null }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_ENTRY, 'run', '--policy', policy, '--', ...command],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { stdout, status };
}

/** Parses the workload's "ret=R errno=E" line. */
export function callResult(stdout: string): { readonly ret: number; readonly errno: number } {
  const match = /ret=(-?\d+) errno=(\d+)/.exec(stdout);
  if (!match) throw new Error(`no "ret=... errno=..." line in: ${JSON.stringify(stdout)}`);
  return { ret: Number(match[1]), errno: Number(match[2]) };
}

/** Explains a CLI result in assertion messages. */
export function describe(result: CliResult): string {
  return `status=${result.status} signal=${result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}
