/**
 * The bpftrace program `sysfence record` runs: it counts in the kernel, so the cost per syscall is one
 * map lookup (is this process recorded?) and one per-CPU counter increment, and nothing crosses to user
 * space until the end. Counts are keyed by (pid, image, syscall id); an image is one exec (its id is the
 * exec's timestamp), so a pid that execs twice is attributed to both executables correctly. Syscalls
 * whose arguments are learned (LEARNED_ARGUMENTS) are also counted per masked argument value from their
 * own tracepoints, which only fire for those calls.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { LEARNED_ARGUMENTS, type LearnedArgument } from '../syscalls/learned-args.js';

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

/** One learned argument as its syscall's tracepoint names it. */
export interface ArgumentField {
  readonly field: string;
  readonly argument: LearnedArgument;
}

/** The tracepoint fields of one syscall whose arguments are learned. */
export interface ArgumentProbe {
  readonly syscall: string;
  readonly fields: readonly ArgumentField[];
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

/** The tracepoint fields of a syscall, in argument order (after the common fields and __syscall_nr). */
export function parseTracepointFields(format: string): string[] {
  const fields: string[] = [];
  let afterNr = false;
  for (const line of format.split('\n')) {
    const match = /^\s*field:(.*?)([A-Za-z_][A-Za-z0-9_]*)(\[\d*\])?;/.exec(line);
    if (match === null) continue;
    const name = match[2] as string;
    if (name === '__syscall_nr') afterNr = true;
    else if (afterNr) fields.push(name);
  }
  return fields;
}

/** Reads each learned syscall's tracepoint format from tracefs and names its learned argument fields. */
export async function argumentProbes(tracefs = '/sys/kernel/tracing'): Promise<ArgumentProbe[]> {
  const probes: ArgumentProbe[] = [];
  for (const [syscall, learned] of Object.entries(LEARNED_ARGUMENTS)) {
    const formatPath = join(tracefs, 'events', 'syscalls', `sys_enter_${syscall}`, 'format');
    let format: string;
    try {
      format = await readFile(formatPath, 'utf8');
    } catch (error) {
      throw new Error(
        `cannot read ${formatPath} (${(error as Error).message}); is tracefs mounted? (mount -t tracefs nodev /sys/kernel/tracing)`,
      );
    }
    const names = parseTracepointFields(format);
    const fields = learned.map((argument) => {
      const field = names[argument.index];
      if (field === undefined) throw new Error(`${formatPath}: no field for argument ${argument.index}`);
      return { field, argument };
    });
    probes.push({ syscall, fields });
  }
  return probes;
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

function execProbe(target: EbpfTarget, arch: Arch): string {
  const record = [
    `@track[pid] = $image;`,
    `${IMAGE_PID_MAP}[$image] = pid;`,
    `${IMAGE_COMM_MAP}[$image] = comm;`,
    `${IMAGE_PATH_MAP}[$image] = str(args->filename);`,
  ].join(' ');
  if (target.kind === 'exec-of') {
    // The stub's execve ran before it was tracked; it is the target's own start, so it counts once.
    const execve = syscallNumber(arch, 'execve');
    if (execve === undefined) throw new Error(`no execve number for ${arch}`);
    return (
      `tracepoint:sched:sched_process_exec /@track[pid] != 0 || (pid == ${target.pid} && @armed == 0)/ {\n` +
      `  $image = (uint64)nsecs;\n` +
      `  if (@track[pid] == 0) { @armed = 1; ${CALLS_MAP}[pid, $image, (uint64)${execve}] = count(); }\n` +
      `  ${record}\n}`
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

/** A counting probe's body: the image lookup doubles as the "is this process recorded?" test. */
function countingBody(target: EbpfTarget, counting: string): string {
  switch (target.kind) {
    case 'cgroup':
      return `${cgroupPredicate(target.path)}{ $image = @track[pid]; ${counting} }`;
    case 'all':
      return `{ $image = @track[pid]; ${counting} }`;
    default:
      return `{ $image = @track[pid]; if ($image != 0) { ${counting} } }`;
  }
}

function syscallProbe(target: EbpfTarget, arch: Arch): string {
  return `tracepoint:raw_syscalls:sys_enter ${countingBody(target, `${CALLS_MAP}[pid, $image, ${countedId(arch)}] = count();`)}`;
}

function maskedField(field: ArgumentField): string {
  return `((uint64)args->${field.field} & 0x${field.argument.mask.toString(16)})`;
}

function argumentProbe(target: EbpfTarget, probe: ArgumentProbe): string {
  const key = ['pid', '$image', ...probe.fields.map(maskedField)].join(', ');
  return `tracepoint:syscalls:sys_enter_${probe.syscall} ${countingBody(target, `${ARGUMENT_MAP_PREFIX}${probe.syscall}[${key}] = count();`)}`;
}

/** The whole recording program for a target on the host ABI `arch`. */
export function recordingProgram(target: EbpfTarget, arch: Arch, probes: readonly ArgumentProbe[]): string {
  return [
    beginProbe(target),
    execProbe(target, arch),
    lifecycleProbes(),
    syscallProbe(target, arch),
    ...probes.map((probe) => argumentProbe(target, probe)),
    // Only the counts are printed at exit; the bookkeeping maps would be noise.
    `END { clear(@track);${target.kind === 'exec-of' ? ' clear(@armed);' : ''} }`,
    '',
  ].join('\n');
}
