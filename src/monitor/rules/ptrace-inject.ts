/**
 * ptrace-inject: ptrace attaching to, or writing into, another process (PTRACE_ATTACH, PTRACE_SEIZE,
 * PTRACE_POKETEXT/POKEDATA/POKEUSER, PTRACE_SETREGS/SETREGSET): code injection and credential theft.
 * PTRACE_TRACEME and reads (PEEK*, GETREGS) do not trip it. One alert per tracer and target per window,
 * since an injection is a stream of POKEs. Debuggers that legitimately attach go in the rule's exceptions.
 */
import type { SyscallEvent } from '../../sources/event.js';
import { BoundedMap } from '../bounded.js';
import type { MonitorRule, RuleDefinition, RuleHit, RuleParams } from './rule.js';

/** The requests that take control of, or write into, the target (include/uapi/linux/ptrace.h, x86 SETREGS). */
export const INJECTING_PTRACE_REQUESTS: ReadonlyMap<bigint, string> = new Map([
  [16n, 'PTRACE_ATTACH'],
  [0x4206n, 'PTRACE_SEIZE'],
  [4n, 'PTRACE_POKETEXT'],
  [5n, 'PTRACE_POKEDATA'],
  [6n, 'PTRACE_POKEUSER'],
  [13n, 'PTRACE_SETREGS'],
  [0x4205n, 'PTRACE_SETREGSET'],
]);

const MAX_TRACKED_PAIRS = 65_536;
const MASK_32 = 0xffffffffn;

class PtraceInject implements MonitorRule {
  private readonly lastAlert = new BoundedMap<string, number>(MAX_TRACKED_PAIRS);

  constructor(private readonly windowMs: number) {}

  observe(event: SyscallEvent): RuleHit | undefined {
    if (event.syscall !== 'ptrace' || event.args === undefined) return undefined;
    const [request, targetArg] = event.args;
    if (request === undefined || targetArg === undefined) return undefined;
    // request is an int and target a pid_t: only the low 32 bits are meaningful.
    const requestName = INJECTING_PTRACE_REQUESTS.get(request & MASK_32);
    const target = Number(targetArg & MASK_32);
    if (requestName === undefined || target === event.pid) return undefined;
    const pair = `${event.pid}>${target}`;
    const previous = this.lastAlert.get(pair);
    if (previous !== undefined && event.time - previous <= this.windowMs) return undefined;
    this.lastAlert.set(pair, event.time);
    return {
      pid: event.pid,
      event,
      message: `pid ${event.pid} called ptrace(${requestName}) on pid ${target}`,
      details: {
        request: requestName,
        targetPid: target,
        succeeded: event.ret === undefined ? 'unknown' : event.ret >= 0n ? 'yes' : 'no',
      },
    };
  }
}

export const ptraceInjectRule: RuleDefinition = {
  id: 'ptrace-inject',
  summary: 'ptrace attaching to or writing into another process',
  defaultSeverity: 'critical',
  params: [
    {
      name: 'windowSeconds',
      kind: 'integer',
      defaultValue: 60,
      min: 1,
      max: 86_400,
      doc: 'one alert per tracer/target per window',
    },
  ],
  windowMs: () => 0,
  create: (params: RuleParams) => new PtraceInject(params.number('windowSeconds') * 1000),
};
