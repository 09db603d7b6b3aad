/**
 * dropper-exec: a process opens a file for writing (open/openat with O_WRONLY|O_RDWR|O_CREAT, or creat)
 * and then it, or a child it forks, executes a program from a world-writable directory (/tmp, /dev/shm,
 * /var/tmp, /run/user) within the window: "download, chmod, run".
 *
 * The mark also goes on the writer's parent (below init): `wget -O /tmp/x URL; /tmp/x` writes in one
 * child of the shell and executes in another.
 *
 * Why the directory and not the very file: the event model carries the executable of an execve but not
 * the path an open named (audit's PATH record, eBPF's string argument), so "executes the file it wrote"
 * cannot be checked yet. Executing from a world-writable directory right after writing something is the
 * dropper pattern that needs no path; with a `path` on events the rule would compare the two exactly.
 */
import { WRITABLE_DIRS } from '../../syscalls/detection-defaults.js';
import type { SyscallEvent } from '../../sources/event.js';
import { BoundedMap } from '../bounded.js';
import { spawnedChild, type ProcessTable } from '../process-table.js';
import { isUnder } from './names.js';
import type { MonitorRule, RuleDefinition, RuleHit, RuleParams } from './rule.js';

const MAX_TRACKED_WRITERS = 65_536;
/** open(2)/openat(2) flags that mean the file may be written (generic Linux values on every ABI we support). */
const O_WRONLY = 0o1n;
const O_RDWR = 0o2n;
const O_CREAT = 0o100n;
const WRITE_FLAGS = O_WRONLY | O_RDWR | O_CREAT;
/** Which argument holds the flags, per open-like syscall. */
const FLAGS_ARGUMENT: Readonly<Record<string, number>> = { open: 1, openat: 2 };
const EXEC_SYSCALLS: ReadonlySet<string> = new Set(['execve', 'execveat']);

interface WriteMark {
  readonly time: number;
  /** The pid that opened for writing (a child inherits its parent's mark). */
  readonly writer: number;
}

function failed(event: SyscallEvent): boolean {
  return event.ret !== undefined && event.ret < 0n;
}

/** True for a successful (or unknown-outcome) open that may write. */
export function isWriteOpen(event: SyscallEvent): boolean {
  if (failed(event) || event.syscall === undefined) return false;
  if (event.syscall === 'creat') return true;
  const index = FLAGS_ARGUMENT[event.syscall];
  if (index === undefined) return false;
  const flags = event.args?.[index];
  return flags !== undefined && (flags & WRITE_FLAGS) !== 0n;
}

class DropperExec implements MonitorRule {
  private readonly marks = new BoundedMap<number, WriteMark>(MAX_TRACKED_WRITERS);

  constructor(
    private readonly windowMs: number,
    private readonly writableDirs: readonly string[],
  ) {}

  observe(event: SyscallEvent, processes: ProcessTable): RuleHit | undefined {
    if (isWriteOpen(event)) {
      const mark: WriteMark = { time: event.time, writer: event.pid };
      this.marks.set(event.pid, mark);
      const parent = event.ppid ?? processes.parentOf(event.pid);
      if (parent !== undefined && parent > 1) this.marks.set(parent, mark);
      return undefined;
    }
    const child = spawnedChild(event);
    if (child !== undefined) {
      const mark = this.freshMark(event.pid, event.time);
      if (mark !== undefined) this.marks.set(child, mark);
      return undefined;
    }
    if (event.syscall === undefined || !EXEC_SYSCALLS.has(event.syscall) || failed(event)) return undefined;
    return this.checkExec(event, processes);
  }

  private checkExec(event: SyscallEvent, processes: ProcessTable): RuleHit | undefined {
    const exe = event.exe;
    if (exe === undefined || !isUnder(exe, this.writableDirs)) return undefined;
    const parent = event.ppid ?? processes.parentOf(event.pid);
    const mark =
      this.freshMark(event.pid, event.time) ??
      (parent === undefined ? undefined : this.freshMark(parent, event.time));
    if (mark === undefined) return undefined;
    return {
      pid: event.pid,
      event,
      message: `pid ${event.pid} executed ${exe} from a world-writable directory ${Math.round((event.time - mark.time) / 1000)} s after pid ${mark.writer} opened a file for writing`,
      details: { executed: exe, writerPid: mark.writer, secondsAfterWrite: (event.time - mark.time) / 1000 },
    };
  }

  private freshMark(pid: number, now: number): WriteMark | undefined {
    const mark = this.marks.get(pid);
    return mark !== undefined && now - mark.time <= this.windowMs ? mark : undefined;
  }
}

export const dropperExecRule: RuleDefinition = {
  id: 'dropper-exec',
  summary:
    'a file opened for writing, then an execve from a world-writable directory by the writer or its child',
  defaultSeverity: 'critical',
  params: [
    {
      name: 'windowSeconds',
      kind: 'integer',
      defaultValue: 60,
      min: 1,
      max: 86_400,
      doc: 'longest write-to-exec delay',
    },
    {
      name: 'writableDirs',
      kind: 'names',
      defaultValue: [...WRITABLE_DIRS],
      doc: 'directories an execve from counts as suspicious',
    },
  ],
  windowMs: (params: RuleParams) => params.number('windowSeconds') * 1000,
  create: (params: RuleParams) =>
    new DropperExec(params.number('windowSeconds') * 1000, params.names('writableDirs')),
};
