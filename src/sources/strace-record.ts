/**
 * Recording a command with strace, the fallback where eBPF is not available: slow (every call stops the
 * process twice), but it needs only ptrace. strace starts the command itself and traces from its
 * execve, so nothing of sysfence appears in the recording.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { hostArch } from '../syscalls/arch.js';
import { emptySourceStats, type SourceStats, type SyscallEvent } from './event.js';
import { withResolvedExecutables } from './executable-path.js';
import { childExit, findTool, type RecordTarget, type Recording } from './recorded-command.js';
import { RAW_SYSCALLS, StraceParser } from './strace-parse.js';

export interface StraceRecordRequest {
  readonly target: Extract<RecordTarget, { kind: 'command' }>;
  readonly host?: string;
  /** PATH to find strace on (default: this process's). */
  readonly pathVariable?: string;
}

/** Longest string strace prints: long enough for exec paths, which name the executables. */
const STRING_LIMIT = 4096;

/**
 * strace's command line: follow children (-f), no attach/exit chatter (-qq), epoch timestamps (-ttt),
 * numbers instead of flag names (-X raw) and raw argument registers for the learned syscalls.
 */
export function straceArguments(output: string, argv: readonly string[]): string[] {
  return [
    '-f',
    '-qq',
    '-ttt',
    '-X',
    'raw',
    '-s',
    String(STRING_LIMIT),
    '-e',
    `raw=${RAW_SYSCALLS.join(',')}`,
    '-o',
    output,
    '--',
    ...argv,
  ];
}

/** Records a command with strace; its exit status passes through in `status`. */
export async function recordWithStrace(request: StraceRecordRequest): Promise<Recording> {
  const strace = findTool('strace', request.pathVariable);
  if (request.target.argv.length === 0) throw new Error('no command to record');
  const directory = await mkdtemp(join(tmpdir(), 'sysfence-strace-'));
  try {
    const output = join(directory, 'strace.out');
    // Physical, so that a relative COMMAND resolves as the kernel resolved it (`..` after a symlink).
    const cwd = await realpath(request.target.cwd ?? process.cwd());
    const start = Date.now();
    const child = spawn(strace, straceArguments(output, request.target.argv), {
      stdio: 'inherit',
      env: request.target.env ?? process.env,
      cwd,
    });
    const status = await childExit(child);
    const end = Date.now();
    const stats = emptySourceStats();
    const events = await parseStraceFile(output, request.host ?? hostname(), stats, cwd);
    return { events: await withResolvedExecutables(events), stats, status, start, end };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Reads a strace output file (written with straceArguments' flags) into events, exe paths as exec was
 * given them (`launchCwd`: see StraceParser).
 */
export async function parseStraceFile(
  path: string,
  host: string,
  stats: SourceStats,
  launchCwd?: string,
): Promise<SyscallEvent[]> {
  const parser = new StraceParser(hostArch(), host, stats, launchCwd);
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    parser.line(line, `${path}:${lineNumber}`);
  }
  return parser.events();
}
