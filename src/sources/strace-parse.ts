/**
 * Reading `strace -f -ttt -X raw -e raw=<learned syscalls>` output into events. Each line is
 * `PID TIME REST`; a call counts once, where it enters (a complete line, or one ending `<unfinished ...>`);
 * its `<... NAME resumed>` line only finishes it (an execve's result is read there). Signal (`---`) and
 * exit (`+++`) lines are skipped; anything else, such as a line cut short, is a counted problem.
 *
 * The executable of a call is the path the process last exec'd (as given; strace-record.ts resolves it); before its first exec a process runs
 * its parent's image (known from the parent's clone/fork result, which strace may print after the
 * child's first lines), so calls are kept per (pid, exec epoch) and resolved when the output ends.
 * An execve is counted in the image that calls it. The recorded command's own start is not counted: the
 * first process's calls up to its first successful exec are strace's (the launcher's), not the workload's,
 * and counting that execve would make a learned policy allow execve (the eBPF recorder does the same).
 */
import { resolve } from 'node:path';
import { recordProblem, withSyscallName, type SourceStats, type SyscallEvent } from './event.js';
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { learnedArgumentsOf } from '../syscalls/learned-args.js';

/** The syscalls whose arguments strace must print as raw numbers (sorted for a stable command line). */
export const RAW_SYSCALLS: readonly string[] = [
  'clone',
  'ioctl',
  'personality',
  'prctl',
  'socket',
  'unshare',
];

const LINE = /^(\d+) +(\d+\.\d+) (.*)$/;
const CALL = /^([a-z_][a-z0-9_]*)\((.*)$/;
const RESUMED = /^<\.\.\. ([a-z_][a-z0-9_]*) resumed>(.*)$/;
const UNFINISHED = ' <unfinished ...>';
/** A finished call ends with `) = RET` (strace pads before `=`) and an optional errno or comment. */
const RESULT = /\) *= (-?\d+|0x[0-9a-f]+|\?)(?= |$)/g;
const PERSONALITY = /^\[ Process PID=(\d+) runs in (32|64|x32) bit mode\. \]$/;
const CLONE_CALLS = new Set(['clone', 'clone3', 'fork', 'vfork']);
const EXEC_CALLS = new Set(['execve', 'execveat']);

interface CallCount {
  readonly nr: number;
  readonly syscall?: string;
  readonly arch: Arch;
  readonly args?: bigint[];
  count: number;
  first: number;
  last: number;
}

/** One process between two execs: its calls, by syscall and learned argument values. */
interface Epoch {
  readonly calls: Map<string, CallCount>;
  /** The path exec'd to start this epoch; undefined for epoch 0 (inherited from the creator). */
  readonly exe?: string;
}

interface ProcessState {
  readonly epochs: Epoch[];
  arch: Arch;
  /** The path of an execve waiting for its result. */
  pendingExec?: string;
  creator?: { readonly pid: number; readonly epoch: number };
}

/** Parses strace output line by line; `events()` gives the aggregated events at the end. */
export class StraceParser {
  private readonly processes = new Map<number, ProcessState>();
  /** The process strace started: the pid of the first call line (strace's output begins at its execve). */
  private launched: number | undefined;

  /**
   * `launchCwd`: the working directory strace started the command in; the command's own exec path (maybe
   * relative, as given) is made absolute against it, the only process whose cwd is known.
   */
  constructor(
    private readonly arch: Arch,
    private readonly host: string,
    private readonly stats: SourceStats,
    private readonly launchCwd?: string,
  ) {}

  /** Reads one line; `where` names it in problems (file:line). */
  line(text: string, where: string): void {
    this.stats.records += 1;
    const personality = PERSONALITY.exec(text);
    if (personality !== null) {
      const arch = personality[2] === '32' ? 'i386' : personality[2] === 'x32' ? 'x32' : this.arch;
      this.process(Number(personality[1])).arch = arch;
      return;
    }
    const match = LINE.exec(text);
    if (match === null) {
      recordProblem(this.stats, { where, reason: `not a 'PID TIME call' line: ${text.slice(0, 80)}` });
      return;
    }
    const pid = Number(match[1]);
    const time = Math.round(Number(match[2]) * 1000);
    const rest = match[3] as string;
    if (rest.startsWith('--- ') || rest.startsWith('+++ ')) return; // signals and exits
    const resumed = RESUMED.exec(rest);
    if (resumed !== null) this.resume(pid, resumed[1] as string, resumed[2] as string, where);
    else this.call(pid, time, rest, where);
  }

  private process(pid: number): ProcessState {
    let state = this.processes.get(pid);
    if (state === undefined) {
      state = { epochs: [{ calls: new Map() }], arch: this.arch };
      this.processes.set(pid, state);
    }
    return state;
  }

  private call(pid: number, time: number, rest: string, where: string): void {
    const call = CALL.exec(rest);
    const unfinished = rest.endsWith(UNFINISHED);
    const result = unfinished ? undefined : resultOf(rest);
    if (call === null || (!unfinished && result === undefined)) {
      recordProblem(this.stats, { where, reason: `truncated or unknown call line: ${rest.slice(0, 80)}` });
      return;
    }
    const name = call[1] as string;
    this.launched ??= pid;
    const state = this.process(pid);
    const nr = this.numberOf(name, state.arch);
    if (nr === undefined) {
      recordProblem(this.stats, { where, reason: `syscall '${name}' is not in the ${state.arch} table` });
      return;
    }
    const body = call[2] as string;
    const argumentText = unfinished
      ? body.slice(0, -UNFINISHED.length)
      : body.slice(0, body.length - (rest.length - (result as Result).index));
    const args = this.learnedArgs(name, argumentText, where);
    this.count(state, { nr, syscall: name, arch: state.arch, ...(args ? { args } : {}) }, time);
    if (EXEC_CALLS.has(name)) state.pendingExec = execPath(name, argumentText);
    if (result !== undefined) this.finish(pid, name, result.value);
  }

  private resume(pid: number, name: string, rest: string, where: string): void {
    const result = resultOf(rest);
    if (result === undefined) {
      recordProblem(this.stats, { where, reason: `resumed ${name} without a result` });
      return;
    }
    this.finish(pid, name, result.value);
  }

  /** A call's result: a successful exec starts a new epoch; a clone names its child's creator. */
  private finish(pid: number, name: string, result: string): void {
    const state = this.process(pid);
    if (EXEC_CALLS.has(name)) {
      if (result === '0') state.epochs.push({ calls: new Map(), exe: state.pendingExec });
      state.pendingExec = undefined;
      return;
    }
    if (!CLONE_CALLS.has(name) || result === '?' || result.startsWith('-')) return;
    const child = this.process(Number(result));
    child.creator ??= { pid, epoch: state.epochs.length - 1 };
  }

  private numberOf(name: string, arch: Arch): number | undefined {
    const unknown = /^syscall_0x([0-9a-f]+)$/.exec(name);
    return unknown !== null ? parseInt(unknown[1] as string, 16) : syscallNumber(arch, name);
  }

  /** The raw argument registers of a learned syscall (strace prints them as numbers via -e raw=). */
  private learnedArgs(name: string, text: string, where: string): bigint[] | undefined {
    const learned = learnedArgumentsOf(name);
    if (learned.length === 0) return undefined;
    const values = rawArguments(text);
    if (values === undefined) {
      recordProblem(this.stats, { where, reason: `${name}: arguments are not raw numbers` });
      return undefined;
    }
    // Keep only the learned registers (masked), so calls differing in pointers count together, as in eBPF.
    const kept = new Array<bigint>(Math.max(...learned.map((argument) => argument.index)) + 1).fill(0n);
    for (const argument of learned) kept[argument.index] = (values[argument.index] ?? 0n) & argument.mask;
    return kept;
  }

  private count(state: ProcessState, call: Omit<CallCount, 'count' | 'first' | 'last'>, time: number): void {
    const epoch = state.epochs[state.epochs.length - 1] as Epoch;
    const learned = (call.args ?? []).map((value) => value.toString(16)).join(',');
    const key = `${call.arch}/${call.nr}/${learned}`;
    const existing = epoch.calls.get(key);
    if (existing === undefined) epoch.calls.set(key, { ...call, count: 1, first: time, last: time });
    else {
      existing.count += 1;
      existing.last = Math.max(existing.last, time);
    }
  }

  /** The executable of a process's epoch: its exec path, or its creator's image at the clone. */
  private exeOf(pid: number, epochIndex: number, seen = new Set<number>()): string | undefined {
    const state = this.processes.get(pid);
    if (state === undefined || seen.has(pid)) return undefined;
    const epoch = state.epochs[epochIndex];
    if (epoch?.exe !== undefined) {
      const launchedImage = pid === this.launched && epochIndex === 1 && this.launchCwd !== undefined;
      return launchedImage ? resolve(this.launchCwd as string, epoch.exe) : epoch.exe;
    }
    if (epochIndex > 0) return undefined; // an execveat by fd: no path to name
    seen.add(pid);
    return state.creator === undefined ? undefined : this.exeOf(state.creator.pid, state.creator.epoch, seen);
  }

  /** The launched process before its first exec is strace's code: its calls (the exec) are not the workload's. */
  private isLauncher(pid: number, epochIndex: number): boolean {
    return pid === this.launched && epochIndex === 0;
  }

  /** The events read: per (pid, image, syscall, learned values), a first call and the rest at the last time. */
  events(): SyscallEvent[] {
    const events: SyscallEvent[] = [];
    for (const [pid, state] of this.processes) {
      state.epochs.forEach((epoch, index) => {
        if (this.isLauncher(pid, index)) return;
        const exe = this.exeOf(pid, index);
        for (const call of epoch.calls.values()) events.push(...this.eventsOf(pid, exe, call));
      });
    }
    this.stats.events += events.length;
    return events;
  }

  private eventsOf(pid: number, exe: string | undefined, call: CallCount): SyscallEvent[] {
    const base = {
      source: 'strace' as const,
      host: this.host,
      pid,
      arch: call.arch,
      nr: call.nr,
      ...(exe !== undefined ? { exe } : {}),
      ...(call.args !== undefined ? { args: call.args } : {}),
    };
    const first = withSyscallName({ ...base, time: call.first, count: 1 });
    // Two events keep the first and last time of the calls without one event per call.
    return call.count === 1
      ? [first]
      : [first, withSyscallName({ ...base, time: call.last, count: call.count - 1 })];
  }
}

interface Result {
  /** Where `) = ` starts in the text. */
  readonly index: number;
  readonly value: string;
}

/** The call's result: the last `) = RET` (string arguments before it may hold the same characters). */
function resultOf(text: string): Result | undefined {
  const last = [...text.matchAll(RESULT)].at(-1);
  return last === undefined ? undefined : { index: last.index, value: last[1] as string };
}

/** Top-level comma-separated raw numbers (`0xa, 0x80001, 0`), or undefined if any is not a number. */
export function rawArguments(text: string): bigint[] | undefined {
  if (text.trim() === '') return [];
  const values: bigint[] = [];
  for (const part of text.split(',')) {
    const token = part.trim();
    if (!/^-?(0x[0-9a-f]+|\d+)$/.test(token)) return undefined;
    values.push(BigInt.asUintN(64, token.startsWith('-') ? -BigInt(token.slice(1)) : BigInt(token)));
  }
  return values;
}

/** The path an exec call names (execve's first argument, execveat's second), decoded from strace's C string. */
function execPath(name: string, text: string): string | undefined {
  const afterFd = name === 'execveat' ? text.slice(text.indexOf(',') + 1).trimStart() : text;
  const match = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?/.exec(afterFd);
  if (match === null || match[2] !== undefined || match[1] === '') return undefined; // truncated or by fd
  return decodeCString(match[1] as string);
}

/** Decodes the escapes strace writes in strings (\n, \t, \", \\, \xHH, octal). */
export function decodeCString(text: string): string {
  const bytes: number[] = [];
  const simple: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 };
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = text[i + 1] ?? '';
    const hex = /^x([0-9a-fA-F]{2})/.exec(text.slice(i + 1));
    const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1));
    if (hex !== null) {
      bytes.push(parseInt(hex[1] as string, 16));
      i += 3;
    } else if (octal !== null) {
      bytes.push(parseInt(octal[0], 8));
      i += octal[0].length;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
