/**
 * time-tamper: setting the system clock (settimeofday, clock_settime(CLOCK_REALTIME)) or stepping it
 * through adjtimex/clock_adjtime, by anything but a time daemon: attackers step the clock to fool log
 * correlation, certificate checks and TOTP. NTP daemons are recognised by executable PATH only (a task
 * name is attacker-chosen). Not tampering: settimeofday(NULL, tz) (time zone only), read-only adjtimex
 * (modes 0), and small slews (ADJ_OFFSET below the threshold, ADJ_FREQUENCY). A time zone change is
 * not a clock change at all: it only reads /etc/localtime, so it never reaches this rule.
 *
 * adjtimex passes a pointer: registers do not hold `modes`. Without a TimexReader (a source that copies
 * the struct) an adjtimex cannot be judged and does not trip; settimeofday and clock_settime always can.
 */
import { TIME_DAEMONS } from '../../syscalls/detection-defaults.js';
import type { SyscallEvent } from '../../sources/event.js';
import { baseName } from './names.js';
import type {
  MonitorRule,
  RuleContext,
  RuleDefinition,
  RuleHit,
  RuleParams,
  TimexFields,
  TimexReader,
} from './rule.js';

const CLOCK_REALTIME = 0n;
const MASK_32 = 0xffffffffn;
/** struct timex modes (include/uapi/linux/timex.h). */
const ADJ_OFFSET = 0x0001;
const ADJ_SETOFFSET = 0x0100;
const ADJ_TICK = 0x4000;
const NS_PER_MS = 1_000_000n;

/** Why a clock call changes the time, or undefined when it does not (or cannot be told). */
export function clockChange(
  event: SyscallEvent,
  timex: TimexReader | undefined,
  maxSlewMs: number,
): string | undefined {
  const first = event.args?.[0];
  switch (event.syscall) {
    case 'settimeofday':
      return first === 0n ? undefined : 'settimeofday sets the clock';
    case 'clock_settime':
      return first === undefined || (first & MASK_32) === CLOCK_REALTIME
        ? 'clock_settime(CLOCK_REALTIME)'
        : undefined;
    case 'clock_adjtime':
      if (first !== undefined && (first & MASK_32) !== CLOCK_REALTIME) return undefined;
      return adjustment(event.syscall, timex?.(event), maxSlewMs);
    case 'adjtimex':
      return adjustment(event.syscall, timex?.(event), maxSlewMs);
    default:
      return undefined;
  }
}

function adjustment(syscall: string, fields: TimexFields | undefined, maxSlewMs: number): string | undefined {
  if (fields === undefined || fields.modes === 0) return undefined;
  if ((fields.modes & ADJ_SETOFFSET) !== 0) return `${syscall}(ADJ_SETOFFSET) steps the clock`;
  if ((fields.modes & ADJ_TICK) !== 0) return `${syscall}(ADJ_TICK) changes the clock rate`;
  const offset = fields.offsetNs < 0n ? -fields.offsetNs : fields.offsetNs;
  if ((fields.modes & ADJ_OFFSET) !== 0 && offset > BigInt(maxSlewMs) * NS_PER_MS) {
    return `${syscall}(ADJ_OFFSET) slews by ${offset / NS_PER_MS} ms`;
  }
  return undefined;
}

/** True when the executable is a listed time daemon: a full path, or (for entries without '/') a basename. */
export function isTimeDaemon(exe: string | undefined, daemons: readonly string[]): boolean {
  if (exe === undefined || exe === '') return false;
  const name = baseName(exe);
  return daemons.some((entry) => (entry.includes('/') ? entry === exe : entry === name));
}

class TimeTamper implements MonitorRule {
  constructor(
    private readonly daemons: readonly string[],
    private readonly maxSlewMs: number,
    private readonly timex: TimexReader | undefined,
  ) {}

  observe(event: SyscallEvent): RuleHit | undefined {
    const change = clockChange(event, this.timex, this.maxSlewMs);
    if (change === undefined || isTimeDaemon(event.exe, this.daemons)) return undefined;
    return {
      pid: event.pid,
      event,
      message: `pid ${event.pid} tampered with the system clock: ${change}`,
      details: {
        syscall: event.syscall ?? '',
        change,
        succeeded: event.ret === undefined ? 'unknown' : event.ret >= 0n ? 'yes' : 'no',
      },
    };
  }
}

export const timeTamperRule: RuleDefinition = {
  id: 'time-tamper',
  summary: 'setting or stepping the system clock outside the time daemons',
  defaultSeverity: 'high',
  params: [
    {
      name: 'timeDaemons',
      kind: 'names',
      defaultValue: [...TIME_DAEMONS],
      doc: 'executables allowed to set the clock (a full path, or a basename for entries without /)',
    },
    {
      name: 'maxSlewMs',
      kind: 'integer',
      defaultValue: 500,
      min: 0,
      max: 86_400_000,
      doc: 'largest ADJ_OFFSET slew that is not tampering',
    },
  ],
  windowMs: () => 0,
  create: (params: RuleParams, context: RuleContext) =>
    new TimeTamper(params.names('timeDaemons'), params.number('maxSlewMs'), context.timex),
};
