/**
 * The bpftrace program `sysfence record` runs: it counts in the kernel, so the cost per syscall is one
 * map lookup (is this process recorded?) and one per-CPU counter increment, and nothing crosses to user
 * space until the end. Counts are keyed by (pid, image, syscall id); an image is one exec (its id is the
 * exec's timestamp), so a pid that execs twice is attributed to both executables correctly. Native calls
 * of syscalls whose arguments are learned (LEARNED_ARGUMENTS) are counted per masked argument value
 * instead, from the same probe's argument registers: a second tracepoint per syscall
 * (syscalls:sys_enter_NAME) would make the kernel run its syscall-event dispatcher on every call.
 */
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { LEARNED_ARGUMENTS, learnedArgumentsOf, type LearnedArgument } from '../syscalls/learned-args.js';

/** What to record: processes, before the program is generated (a command is started as a stopped stub first). */
export type EbpfTarget =
  /** Start recording when this (stub) process execs, then follow its descendants. */
  | { readonly kind: 'exec-of'; readonly pid: number }
  /** These running processes and their descendants from now on. */
  | { readonly kind: 'pids'; readonly pids: readonly number[] }
  /** Every process in this cgroup v2 directory (not its sub-cgroups: bpftrace's `cgroup ==` is exact); `pids` are there now. */
  | { readonly kind: 'cgroup'; readonly path: string; readonly pids: readonly number[] }
  /** Every process on the host; `pids` are running now (seeded so their children's exe is known). */
  | { readonly kind: 'all'; readonly pids: readonly number[] };

/** A syscall whose arguments are learned, with its number on the recorded ABI. */
export interface LearnedCall {
  readonly syscall: string;
  readonly nr: number;
  readonly arguments: readonly LearnedArgument[];
}

/** Map names: the parser reads these back. */
export const CALLS_MAP = '@calls';
export const IMAGE_PID_MAP = '@image_pid';
export const IMAGE_COMM_MAP = '@image_comm';
export const IMAGE_PATH_MAP = '@image_path';
export const ARGUMENT_MAP_PREFIX = '@arg_';
/** The line BEGIN prints: bpftrace runs BEGIN after every probe is attached. */
export const ATTACHED_MARKER = 'sysfence: attached';
/**
 * Images of processes running before the recording are named by their pid (pids are below 2^22, exec
 * timestamps far above), so their children inherit an image whose exe sysfence read from /proc at the
 * start; image 0 is a process nobody saw start (a host-wide recording's), whose exe is read at the end.
 */
export const PID_IMAGE_LIMIT = 2 ** 22;
/**
 * i386 calls (int 0x80 or sysenter from a 32-bit task) carry the compat number in raw_syscalls' id; the
 * task's TS_COMPAT status bit (arch/x86/include/asm/thread_info.h) tells them apart. We add 2^32 to the
 * key for them; x32 calls keep their x32 bit in the id, as the kernel sees it.
 */
export const COMPAT_KEY_OFFSET = 2 ** 32;
const TS_COMPAT = 2;

/** The syscalls whose arguments are learned, as the native ABI `arch` numbers them (absent ones skipped). */
export function learnedCalls(arch: Arch): LearnedCall[] {
  return Object.keys(LEARNED_ARGUMENTS).flatMap((syscall) => {
    const nr = syscallNumber(arch, syscall);
    return nr === undefined ? [] : [{ syscall, nr, arguments: learnedArgumentsOf(syscall, arch) }];
  });
}

/** The bpftrace string literal for a cgroup path; refuses characters that could end the literal. */
function cgroupLiteral(path: string): string {
  if (!/^\/[A-Za-z0-9_.:@/+=,-]*$/.test(path)) {
    throw new Error(`cgroup path '${path}' has characters sysfence does not pass to bpftrace`);
  }
  return `"${path}"`;
}

/** The probe predicate selecting a cgroup's processes. */
function cgroupPredicate(path: string): string {
  return `/cgroup == cgroupid(${cgroupLiteral(path)})/ `;
}

/** The syscall id as counted: native number, x32 bit kept, i386 calls moved up by 2^32 (x86_64 only). */
function countedId(arch: Arch): string {
  const id = '(uint64)args->id';
  return arch === 'x86_64' ? `${id} + ((uint64)(curtask->thread_info.status & ${TS_COMPAT}) << 31)` : id;
}

function checkedPid(pid: number): number {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid >= PID_IMAGE_LIMIT)
    throw new Error(`not a process id: ${pid}`);
  return pid;
}

function beginProbe(target: EbpfTarget): string {
  const running = target.kind === 'exec-of' ? [] : target.pids;
  const seeds = running.map((pid) => `@track[${checkedPid(pid)}] = ${pid}; `);
  return `BEGIN { ${seeds.join('')}printf("${ATTACHED_MARKER}\\n"); }`;
}

function execProbe(target: EbpfTarget): string {
  const record = [
    `@track[pid] = $image;`,
    `${IMAGE_PID_MAP}[$image] = pid;`,
    `${IMAGE_COMM_MAP}[$image] = comm;`,
    `${IMAGE_PATH_MAP}[$image] = str(args->filename);`,
  ].join(' ');
  if (target.kind === 'exec-of') {
    // The stub's exec of COMMAND starts the recording but is not counted: it is the launcher's call, not
    // the workload's (docs/sources.md, "The launcher's exec"). Counting it would make a learned policy allow
    // execve for a workload that never execs anything.
    return (
      `tracepoint:sched:sched_process_exec /@track[pid] != 0 || (pid == ${target.pid} && @armed == 0)/ {\n` +
      `  $image = (uint64)nsecs;\n  @armed = 1;\n  ${record}\n}`
    );
  }
  const predicate =
    target.kind === 'cgroup'
      ? cgroupPredicate(target.path)
      : target.kind === 'all'
        ? ''
        : '/@track[pid] != 0/ ';
  return `tracepoint:sched:sched_process_exec ${predicate}{\n  $image = (uint64)nsecs;\n  ${record}\n}`;
}

function lifecycleProbes(): string {
  return [
    // Children inherit the parent's image until they exec; thread creation registers the tid harmlessly.
    `tracepoint:sched:sched_process_fork /@track[pid] != 0/ { @track[args->child_pid] = @track[pid]; }`,
    // Forget exited tasks so a reused pid is not recorded.
    `tracepoint:sched:sched_process_exit /@track[tid] != 0/ { delete(@track[tid]); }`,
  ].join('\n');
}

/** Where a counting probe's work goes: the image lookup doubles as the "is this process recorded?" test. */
function countingBody(target: EbpfTarget, counting: string): string {
  switch (target.kind) {
    case 'cgroup':
      return `${cgroupPredicate(target.path)}{\n  $image = @track[pid];\n${counting}\n}`;
    case 'all':
      return `{\n  $image = @track[pid];\n${counting}\n}`;
    default:
      return `{\n  $image = @track[pid];\n  if ($image != 0) {\n${counting.replace(/^/gm, '  ')}\n  }\n}`;
  }
}

function maskedArgument(argument: LearnedArgument): string {
  return `(args->args[${argument.index}] & 0x${argument.mask.toString(16)})`;
}

/**
 * One counter per call: a learned syscall's native calls by (pid, image, masked values), all others by
 * (pid, image, id). The id includes the compat offset, so i386 and x32 calls never match a native number
 * and are counted without arguments.
 */
function syscallProbe(target: EbpfTarget, arch: Arch, calls: readonly LearnedCall[]): string {
  const learned = calls.map((call) => {
    const key = ['pid', '$image', ...call.arguments.map(maskedArgument)].join(', ');
    return `if ($id == ${call.nr}) { ${ARGUMENT_MAP_PREFIX}${call.syscall}[${key}] = count(); }`;
  });
  const others = `${CALLS_MAP}[pid, $image, $id] = count();`;
  const dispatch = learned.length === 0 ? others : [...learned, `{ ${others} }`].join(' else ');
  const counting = `  $id = ${countedId(arch)};\n  ${dispatch}`;
  return `tracepoint:raw_syscalls:sys_enter ${countingBody(target, counting)}`;
}

/** The whole recording program for a target on the host ABI `arch`. */
export function recordingProgram(target: EbpfTarget, arch: Arch): string {
  return [
    beginProbe(target),
    execProbe(target),
    lifecycleProbes(),
    syscallProbe(target, arch, learnedCalls(arch)),
    // Only the counts are printed at exit; the bookkeeping maps would be noise.
    `END { clear(@track);${target.kind === 'exec-of' ? ' clear(@armed);' : ''} }`,
    '',
  ].join('\n');
}
