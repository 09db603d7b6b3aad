/**
 * A deterministic audit log with known contents, for exact parser tests and the ingest benchmark. It
 * writes what auditd and the kernel write — SECCOMP records, SYSCALL groups (SYSCALL, EXECVE, CWD, PATH,
 * PROCTITLE, EOE), raw and ENRICHED, `node=` prefixes, records forwarded through syslog, the kernel's printk form with dmesg and syslog
 * prefixes, hostile comm/exe names hex-encoded as the kernel encodes them, groups interleaved — and what
 * goes wrong: lines cut short, garbage, the kernel's loss reports. Beside the lines it returns the truth:
 * how many events per (source, host, exe, comm, syscall, action), which lines are malformed, how many
 * records were lost.
 */
import { formatAction, type Action } from '../../src/policy/action.js';
import { AUDIT_ARCH, syscallNumber, X32_SYSCALL_BIT, type Arch } from '../../src/syscalls/arch.js';
import { mulberry32 } from '../helpers/prng.js';

export interface AuditLogTruth {
  /** Event counts by truthKey(). */
  readonly events: ReadonlyMap<string, number>;
  readonly eventCount: number;
  /** 1-based numbers of the lines a parser must report as malformed, in order. */
  readonly malformedLines: readonly number[];
  /** Records the kernel reports lost (its audit_lost counter's last value). */
  readonly lost: number;
}

export interface GeneratedAuditLog {
  readonly lines: readonly string[];
  readonly truth: AuditLogTruth;
}

/** What identifies an event in the truth (every string field is compared exactly). */
export interface TruthFields {
  readonly source: string;
  readonly host: string;
  readonly exe?: string;
  readonly comm?: string;
  readonly syscall?: string;
  readonly action?: Action;
}

/** The key events are counted under, in the truth and in the test. */
export function truthKey(event: TruthFields): string {
  const action = event.action === undefined ? '-' : formatAction(event.action);
  return JSON.stringify([
    event.source,
    event.host,
    event.exe ?? null,
    event.comm ?? null,
    event.syscall ?? null,
    action,
  ]);
}

const prng = mulberry32;

interface Name {
  readonly bytes: Buffer;
}

/** How the kernel writes an untrusted string (audit_log_n_untrustedstring): quoted, or hex if it must. */
function encodeUntrusted(bytes: Buffer): string {
  const needsHex = bytes.some((byte) => byte === 0x22 || byte < 0x21 || byte > 0x7e);
  return needsHex ? bytes.toString('hex').toUpperCase() : `"${bytes.toString('latin1')}"`;
}

/** The documented decoding: UTF-8 when the bytes are valid UTF-8, else one character per byte. */
function expectedText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** A name given as text (stored as its UTF-8 bytes). */
const name = (text: string): Name => ({ bytes: Buffer.from(text, 'utf8') });

/** Programs: ordinary ones, and hostile names of at most 15 bytes for comm (TASK_COMM_LEN - 1). */
const PROGRAMS: readonly { readonly comm: Name; readonly exe: Name }[] = [
  { comm: name('nginx'), exe: name('/usr/sbin/nginx') },
  { comm: name('python3'), exe: name('/usr/bin/python3.11') },
  { comm: name('sh'), exe: name('/usr/bin/dash') },
  { comm: name('a b'), exe: name('/tmp/a b') },
  { comm: name('q"uote'), exe: name('/tmp/q"uote') },
  { comm: name('new\nline'), exe: name('/tmp/x\ntype=SECCOMP') },
  { comm: name('tab\tx'), exe: name('/opt/caf\u00e9/bin') },
  {
    comm: { bytes: Buffer.from([0xff, 0xfe, 0x41, 0x80]) },
    exe: { bytes: Buffer.from('/tmp/\xff\xfe', 'latin1') },
  },
  { comm: name('x code=0x7fff'), exe: name('/tmp/ msg=audit(1.000:1): ') },
  { comm: name('gs\x1dsep'), exe: name('/tmp/gs\x1dAUID="root"') },
];

/** Actions as the kernel logs them (code=, sig=) and as the parser must report them. */
const LOGGED_ACTIONS: readonly { readonly code: number; readonly sig: number; readonly action: Action }[] = [
  { code: 0x7ffc0000, sig: 0, action: { kind: 'log' } },
  { code: 0x00050000, sig: 0, action: { kind: 'errno', errno: 0 } },
  { code: 0x80000000, sig: 31, action: { kind: 'kill_process' } },
  { code: 0x00000000, sig: 31, action: { kind: 'kill_thread' } },
  { code: 0x00030000, sig: 0, action: { kind: 'trap', data: 0 } },
  { code: 0x7fc00000, sig: 0, action: { kind: 'notify' } },
  { code: 0x7ff00000, sig: 0, action: { kind: 'trace', data: 0 } },
  // A filter returning an unknown action: the kernel kills and logs the value as is.
  { code: 0xffff0000, sig: 31, action: { kind: 'kill_process' } },
];

const CALLS: readonly { readonly arch: Arch; readonly syscall: string }[] = [
  { arch: 'x86_64', syscall: 'openat' },
  { arch: 'x86_64', syscall: 'connect' },
  { arch: 'x86_64', syscall: 'ptrace' },
  { arch: 'x86_64', syscall: 'execve' },
  { arch: 'x86_64', syscall: 'mmap' },
  { arch: 'x32', syscall: 'read' },
  { arch: 'i386', syscall: 'socketcall' },
  { arch: 'aarch64', syscall: 'openat' },
];

const GS = '\x1d';
const PROCESS_COUNT = 300;
const SECCOMP_END_FIELD = 'code=';
const SYSCALL_END_FIELD = 'key=';

/** Builds the log line by line, keeping the truth in step. */
class LogWriter {
  readonly lines: string[] = [];
  private readonly events = new Map<string, number>();
  private eventCount = 0;
  private readonly malformedLines: number[] = [];
  private lostCounter = 0;
  private serial = 1000;
  private milliseconds = 1_700_000_000_000;

  /** A few hundred processes, as a server has: each makes many calls (and aureport lists them all). */
  readonly pids: readonly number[];

  constructor(readonly random: () => number) {
    this.pids = Array.from({ length: PROCESS_COUNT }, () => 1000 + Math.floor(random() * 60000));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  nextStamp(): string {
    this.serial += 1 + (this.chance(0.2) ? Math.floor(this.random() * 5) : 0);
    this.milliseconds += Math.floor(this.random() * 7);
    const seconds = Math.floor(this.milliseconds / 1000);
    return `${seconds}.${String(this.milliseconds % 1000).padStart(3, '0')}:${this.serial}`;
  }

  add(line: string): void {
    this.lines.push(line);
  }

  addMalformed(line: string): void {
    this.lines.push(line);
    this.malformedLines.push(this.lines.length);
  }

  expect(fields: TruthFields): void {
    const key = truthKey(fields);
    this.events.set(key, (this.events.get(key) ?? 0) + 1);
    this.eventCount += 1;
  }

  lose(records: number): number {
    this.lostCounter += records;
    return this.lostCounter;
  }

  truth(): AuditLogTruth {
    return {
      events: this.events,
      eventCount: this.eventCount,
      malformedLines: this.malformedLines,
      lost: this.lostCounter,
    };
  }
}

/** A generated call: the program, the ABI and number, and how the record names them. */
interface Call {
  readonly program: (typeof PROGRAMS)[number];
  readonly arch: Arch;
  readonly syscall: string;
  readonly nr: number;
  readonly pid: number;
}

function makeCall(writer: LogWriter): Call {
  const { arch, syscall } = writer.pick(CALLS);
  const nr = syscallNumber(arch, syscall);
  if (nr === undefined) throw new Error(`generator: no ${syscall} on ${arch}`);
  return { program: writer.pick(PROGRAMS), arch, syscall, nr, pid: writer.pick(writer.pids) };
}

/** The kernel's arch= and syscall= for a call (x32 numbers already carry the x32 bit in the table). */
function archFields(call: Call): string {
  if (call.arch === 'x32' && (call.nr & X32_SYSCALL_BIT) === 0)
    throw new Error('generator: x32 table without the x32 bit');
  return `arch=${AUDIT_ARCH[call.arch].toString(16)} syscall=${call.nr}`;
}

function seccompBody(call: Call, logged: (typeof LOGGED_ACTIONS)[number]): string {
  return (
    `auid=4294967295 uid=33 gid=33 ses=4294967295 subj=unconfined pid=${call.pid} ` +
    `comm=${encodeUntrusted(call.program.comm.bytes)} exe=${encodeUntrusted(call.program.exe.bytes)} ` +
    `sig=${logged.sig} ${archFields(call)} compat=${call.arch === 'i386' ? 1 : 0} ip=0x7f10fc42d409 ` +
    `code=0x${logged.code.toString(16)}`
  );
}

function syscallBody(call: Call): string {
  return (
    `${archFields(call)} success=no exit=-13 a0=ffffff9c a1=7ffeeed94a20 a2=80000 a3=0 items=1 ppid=1 ` +
    `pid=${call.pid} auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 ` +
    `tty=(none) ses=4294967295 comm=${encodeUntrusted(call.program.comm.bytes)} ` +
    `exe=${encodeUntrusted(call.program.exe.bytes)} subj=unconfined key=(null)`
  );
}

function enrichedSeccomp(call: Call): string {
  return `${GS}AUID="unset" UID="www-data" GID="www-data" ARCH=${call.arch} SYSCALL=${call.syscall}`;
}

function enrichedSyscall(call: Call): string {
  return `${GS}ARCH=${call.arch} SYSCALL=${call.syscall} AUID="unset" UID="www-data" GID="www-data" EUID="www-data"`;
}

/** Where a record line may be cut so that it must be reported: before its last field is whole. */
function cutShort(writer: LogWriter, line: string, endField: string, minimum = 1): string {
  const end = line.lastIndexOf(` ${endField}`);
  if (end < 0) throw new Error(`generator: no ${endField} in ${line}`);
  // Up to "code=0x" / "key=" minus one character: every such cut leaves the last field missing or bad.
  const latest = end + 1 + endField.length + (endField === SECCOMP_END_FIELD ? 2 : -1);
  return line.slice(0, minimum + Math.floor(writer.random() * (latest - minimum)));
}

interface Framing {
  readonly prefix: string;
  readonly host: string;
  readonly enriched: boolean;
  /** The shortest cut that still leaves a line the parser must call malformed (not a syslog line). */
  readonly minimumCut: number;
}

/** How the syslog plugin (audisp-syslog) forwards auditd's records. */
const SYSLOG_FORWARD_PREFIX = 'Dec  4 20:00:00 web-1 audisp-syslog: ';

function auditFraming(writer: LogWriter): Framing {
  const node = writer.chance(0.2) ? writer.pick(['web-1', 'db-2.example.com']) : undefined;
  const syslog = writer.chance(0.1) ? SYSLOG_FORWARD_PREFIX : '';
  return {
    prefix: `${syslog}${node === undefined ? '' : `node=${node} `}`,
    host: node ?? '',
    enriched: writer.chance(0.5),
    // Cut inside the syslog header, a line is an ordinary syslog line; past "type="/"node=", a broken record.
    minimumCut: syslog.length + 'type='.length,
  };
}

function seccompScenario(writer: LogWriter): void {
  const call = makeCall(writer);
  const logged = writer.pick(LOGGED_ACTIONS);
  const framing = auditFraming(writer);
  const line =
    `${framing.prefix}type=SECCOMP msg=audit(${writer.nextStamp()}): ${seccompBody(call, logged)}` +
    (framing.enriched ? enrichedSeccomp(call) : '');
  if (writer.chance(0.03)) {
    writer.addMalformed(cutShort(writer, line, SECCOMP_END_FIELD, framing.minimumCut));
    return;
  }
  writer.add(line);
  writer.expect({ source: 'audit', host: framing.host, ...names(call), action: logged.action });
}

function names(call: Call): { exe: string; comm: string; syscall: string } {
  return {
    exe: expectedText(call.program.exe.bytes),
    comm: expectedText(call.program.comm.bytes),
    syscall: call.syscall,
  };
}

/** The records of one SYSCALL event, in kernel order; `cut` marks the SYSCALL line cut short. */
function syscallGroup(writer: LogWriter): { lines: string[]; cut: boolean; expect: () => void } {
  const call = makeCall(writer);
  const framing = auditFraming(writer);
  const stamp = writer.nextStamp();
  const record = (type: string, body: string, enriched = ''): string =>
    `${framing.prefix}type=${type} msg=audit(${stamp}): ${body}${framing.enriched ? enriched : ''}`;
  const cut = writer.chance(0.03);
  const syscallLine = record('SYSCALL', syscallBody(call), enrichedSyscall(call));
  const lines = [cut ? cutShort(writer, syscallLine, SYSCALL_END_FIELD, framing.minimumCut) : syscallLine];
  if (call.syscall === 'execve') lines.push(record('EXECVE', 'argc=2 a0="ls" a1=2D6C2061'));
  lines.push(record('CWD', 'cwd="/srv/www"'));
  lines.push(
    record(
      'PATH',
      'item=0 name="/etc/passwd" inode=1234 dev=08:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
    ),
  );
  lines.push(record('PROCTITLE', `proctitle=${call.program.exe.bytes.toString('hex').toUpperCase()}`));
  // The kernel writes EOE for multi-record events; some logs lose it (then the window or flush ends it).
  if (writer.chance(0.9)) lines.push(record('EOE', ''));
  return {
    lines,
    cut,
    expect: () => {
      if (!cut) writer.expect({ source: 'audit', host: framing.host, ...names(call) });
    },
  };
}

function emitGroup(writer: LogWriter, group: { lines: string[]; cut: boolean; expect: () => void }): void {
  group.lines.forEach((line, index) =>
    index === 0 && group.cut ? writer.addMalformed(line) : writer.add(line),
  );
  group.expect();
}

function syscallScenario(writer: LogWriter): void {
  emitGroup(writer, syscallGroup(writer));
}

/** Two or three groups whose records arrive interleaved (each group's own order kept). */
function interleavedScenario(writer: LogWriter): void {
  const groups = Array.from({ length: 2 + Math.floor(writer.random() * 2) }, () => syscallGroup(writer));
  const cursors = groups.map(() => 0);
  for (;;) {
    const open = groups
      .map((_, index) => index)
      .filter((index) => cursors[index]! < groups[index]!.lines.length);
    if (open.length === 0) break;
    const index = writer.pick(open);
    const group = groups[index]!;
    const at = cursors[index]!;
    cursors[index] = at + 1;
    if (at === 0 && group.cut) writer.addMalformed(group.lines[0]!);
    else writer.add(group.lines[at]!);
  }
  for (const group of groups) group.expect();
}

/** A SECCOMP record inside an audited syscall: SECCOMP, SYSCALL and EOE share a serial; one event. */
function seccompWithSyscallScenario(writer: LogWriter): void {
  const call = makeCall(writer);
  const logged = LOGGED_ACTIONS[0]!;
  const stamp = writer.nextStamp();
  writer.add(`type=SECCOMP msg=audit(${stamp}): ${seccompBody(call, logged)}`);
  writer.add(`type=SYSCALL msg=audit(${stamp}): ${syscallBody(call)}`);
  writer.add(`type=PROCTITLE msg=audit(${stamp}): proctitle=2F62696E2F7368`);
  writer.add(`type=EOE msg=audit(${stamp}): `);
  writer.expect({ source: 'audit', host: '', ...names(call), action: logged.action });
}

const KERNEL_PREFIXES: readonly (() => string)[] = [
  () => '',
  () => '[ 5827.798643] ',
  () => 'Dec  4 20:00:00 vm kernel: [ 5827.798643] ',
  () => '2026-12-04T20:00:00.123456+00:00 vm kernel: ',
  () => '6,1234,5827798643,-;',
];

/** The kernel's printk form: what dmesg, /dev/kmsg and syslog show when auditd is not running. */
function kmsgScenario(writer: LogWriter): void {
  const call = makeCall(writer);
  const logged = writer.pick(LOGGED_ACTIONS);
  const prefix = writer.pick(KERNEL_PREFIXES)();
  const line = `${prefix}audit: type=1326 audit(${writer.nextStamp()}): ${seccompBody(call, logged)}`;
  if (writer.chance(0.03)) {
    writer.addMalformed(
      cutShort(writer, line, SECCOMP_END_FIELD, line.indexOf('audit: type=') + 'audit: type='.length + 1),
    );
    return;
  }
  writer.add(line);
  writer.expect({ source: 'kmsg', host: '', ...names(call), action: logged.action });
}

/** Records that are not calls: counted as read, no event. */
function otherRecordScenario(writer: LogWriter): void {
  const stamp = writer.nextStamp();
  writer.add(
    writer.pick([
      `type=ANOM_ABEND msg=audit(${stamp}): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=19011 comm="seccomp-run" exe="/tmp/seccomp-run" sig=31 res=1`,
      `type=USER_LOGIN msg=audit(${stamp}): pid=812 uid=0 auid=0 ses=3 msg='op=login id=0 exe="/usr/sbin/sshd" hostname=? addr=10.0.0.5 terminal=sshd res=success'${GS}UID="root"`,
      `type=DAEMON_START msg=audit(${stamp}): op=start ver=3.0.9 format=enriched kernel=6.18.0 auid=4294967295 pid=6068 uid=0 ses=4294967295 res=success`,
      `type=UNKNOWN[1423] msg=audit(${stamp}): pid=1 comm="systemd"`,
      `[ 0.160000] audit: initializing netlink subsys (disabled)`,
      `Dec  4 20:00:00 vm kernel: [ 12.5] eth0: link up`,
      `               Please enable it if your BIOS has the CPPC option.`,
      '',
    ]),
  );
}

/** The kernel reporting drops: its cumulative counter and a message per drop. */
function lossScenario(writer: LogWriter): void {
  const total = writer.lose(1 + Math.floor(writer.random() * 5));
  const prefix = writer.pick(KERNEL_PREFIXES)();
  writer.add(`${prefix}audit: audit_lost=${total} audit_rate_limit=0 audit_backlog_limit=64`);
  writer.add(
    `${prefix}audit: ${writer.pick(['backlog limit exceeded', 'rate limit exceeded', 'kauditd hold queue overflow'])}`,
  );
}

/** Lines that are not audit text at all, or records whose header is broken. */
function garbageScenario(writer: LogWriter): void {
  const letters = 'abcdefghijklmnopqrstuvwxyz =:()"\x80\xff\x1d';
  const noise = Array.from({ length: 5 + Math.floor(writer.random() * 60) }, () =>
    writer.pick([...letters]),
  ).join('');
  writer.addMalformed(
    writer.pick([
      `garbage ${noise}`,
      `type=SECCOMP msg=audit(notatime): ${noise}`,
      `type=SYSCALL msg=audit(1700000000.12:5): arch=c000003e`,
      `type=SECCOMP ${noise}`,
      `node=web-1`,
      `${noise}x`,
    ]),
  );
}

const SCENARIOS: readonly (readonly [weight: number, run: (writer: LogWriter) => void])[] = [
  [30, seccompScenario],
  [25, syscallScenario],
  [8, interleavedScenario],
  [3, seccompWithSyscallScenario],
  [12, kmsgScenario],
  [10, otherRecordScenario],
  [2, lossScenario],
  [3, garbageScenario],
];
const TOTAL_WEIGHT = SCENARIOS.reduce((sum, [weight]) => sum + weight, 0);

/** Generates at least `lines` lines from `seed`; the same seed always gives the same log. */
export function generateAuditLog(options: {
  readonly seed: number;
  readonly lines: number;
}): GeneratedAuditLog {
  const writer = new LogWriter(prng(options.seed));
  while (writer.lines.length < options.lines) {
    let roll = writer.random() * TOTAL_WEIGHT;
    for (const [weight, run] of SCENARIOS) {
      roll -= weight;
      if (roll < 0) {
        run(writer);
        break;
      }
    }
  }
  return { lines: writer.lines, truth: writer.truth() };
}

/** The log as the bytes a file would hold (latin1: one byte per character, as the generator means). */
export function auditLogBytes(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}
