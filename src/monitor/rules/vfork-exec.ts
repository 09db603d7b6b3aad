/**
 * vfork-exec: a JVM or web server (java, nginx, httpd, node, php-fpm, ...) whose fork/vfork/clone child
 * executes a shell, interpreter or downloader (sh, bash, python, curl, wget, ...): how Log4Shell-style
 * remote code execution shows itself. The spawner is the exec'ing process's image before the execve (a
 * vfork/clone child runs its parent's image until then) or, failing that, its parent's.
 */
import { INTERPRETER_NAMES, SERVER_NAMES } from '../../syscalls/detection-defaults.js';
import type { SyscallEvent } from '../../sources/event.js';
import type { ProcessTable } from '../process-table.js';
import { alertExe, eventProcessName, nameMatches, processName } from './names.js';
import type { MonitorRule, RuleDefinition, RuleHit, RuleParams } from './rule.js';

const EXEC_SYSCALLS: ReadonlySet<string> = new Set(['execve', 'execveat']);

interface Spawner {
  readonly pid: number;
  readonly name: string;
  readonly label: string;
}

class VforkExec implements MonitorRule {
  constructor(
    private readonly servers: readonly string[],
    private readonly interpreters: readonly string[],
  ) {}

  observe(event: SyscallEvent, processes: ProcessTable): RuleHit | undefined {
    if (event.syscall === undefined || !EXEC_SYSCALLS.has(event.syscall)) return undefined;
    if (event.ret !== undefined && event.ret < 0n) return undefined;
    const executed = eventProcessName(event);
    if (!nameMatches(executed, this.interpreters)) return undefined;
    const spawner = this.serverSpawner(event, processes);
    if (spawner === undefined) return undefined;
    return {
      pid: event.pid,
      event,
      message: `${spawner.label} (pid ${spawner.pid}) spawned pid ${event.pid} running ${executed}: possible remote code execution`,
      details: { spawnerPid: spawner.pid, spawner: spawner.label, executed: event.exe ?? executed },
    };
  }

  private serverSpawner(event: SyscallEvent, processes: ProcessTable): Spawner | undefined {
    const before = processes.get(event.pid);
    const parentPid = event.ppid ?? before?.ppid;
    const candidates: { pid: number; exe?: string; comm?: string }[] = [];
    if (before !== undefined)
      candidates.push({ pid: parentPid ?? event.pid, exe: before.exe, comm: before.comm });
    if (parentPid !== undefined) candidates.push({ pid: parentPid, ...processes.get(parentPid) });
    for (const candidate of candidates) {
      const name = processName(candidate.exe, candidate.comm);
      if (nameMatches(name, this.servers)) {
        return { pid: candidate.pid, name, label: alertExe(candidate.exe, candidate.comm) };
      }
    }
    return undefined;
  }
}

export const vforkExecRule: RuleDefinition = {
  id: 'vfork-exec',
  summary: 'a JVM or web server spawning a shell, interpreter or downloader',
  defaultSeverity: 'critical',
  params: [
    {
      name: 'servers',
      kind: 'names',
      defaultValue: [...SERVER_NAMES],
      doc: 'process names (exe basename, else comm; a trailing * matches a prefix) of servers',
    },
    {
      name: 'interpreters',
      kind: 'names',
      defaultValue: [...INTERPRETER_NAMES],
      doc: 'names of shells, interpreters and downloaders a server must not run',
    },
  ],
  windowMs: () => 0,
  create: (params: RuleParams) => new VforkExec(params.names('servers'), params.names('interpreters')),
};
