/**
 * The audit source, exactly: a generated log whose contents are known (test/sources/audit-log-generator.ts)
 * must give precisely the true events, malformed lines (with their file:line) and loss count, whether fed
 * line by line or streamed from a file; plus hand-written records for the fields the generator does not
 * vary.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditParser, readAuditFile, readAuditLog } from '../../src/sources/audit.js';
import { AuditLossCounter } from '../../src/sources/audit-loss.js';
import { emptySourceStats, MAX_REPORTED_PROBLEMS, type SyscallEvent } from '../../src/sources/event.js';
import { auditLogBytes, generateAuditLog, truthKey, type AuditLogTruth } from './audit-log-generator.js';

/** The generated logs mix in kmsg and syslog forms: these tests read them all. */
const ALL_FORMS = { unauthenticatedForms: true } as const;

const scratch = mkdtempSync(join(tmpdir(), 'sysfence-audit-'));

function countByKey(events: readonly SyscallEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(truthKey(event), (counts.get(truthKey(event)) ?? 0) + 1);
  return counts;
}

function sorted(map: ReadonlyMap<string, number>): [string, number][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function assertMatchesTruth(
  events: readonly SyscallEvent[],
  stats: ReturnType<typeof emptySourceStats>,
  truth: AuditLogTruth,
  lineCount: number,
  file: string,
): void {
  assert.equal(stats.records, lineCount);
  assert.equal(events.length, truth.eventCount);
  assert.equal(stats.events, truth.eventCount);
  assert.deepEqual(sorted(countByKey(events)), sorted(truth.events));
  assert.equal(stats.malformed, truth.malformedLines.length);
  assert.deepEqual(
    stats.problems.map((problem) => problem.where),
    truth.malformedLines.slice(0, MAX_REPORTED_PROBLEMS).map((line) => `${file}:${line}`),
  );
  assert.equal(stats.lost, truth.lost);
}

const generated = generateAuditLog({ seed: 20261204, lines: 20_000 });

test('the generated log exercises every case it claims to', () => {
  const { truth, lines } = generated;
  assert.ok(lines.length >= 20_000);
  assert.ok(truth.malformedLines.length > 100, `only ${truth.malformedLines.length} malformed lines`);
  assert.ok(truth.lost > 0);
  const keys = [...truth.events.keys()].map((key) => JSON.parse(key) as string[]);
  assert.ok(keys.some(([source]) => source === 'kmsg'));
  assert.ok(keys.some(([, host]) => host === 'web-1'));
  assert.ok(keys.some(([, , , comm]) => comm === 'new\nline'));
  assert.ok(lines.some((line) => line.includes('\x1d')));
  assert.ok(lines.some((line) => line.includes('audisp-syslog: type=SECCOMP')));
});

test('parsing a generated log line by line gives exactly the true events, problems and losses', () => {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, { ...ALL_FORMS, file: 'generated.log' });
  const events: SyscallEvent[] = [];
  generated.lines.forEach((line, index) => events.push(...parser.push(line, index + 1)));
  events.push(...parser.flush());
  assertMatchesTruth(events, stats, generated.truth, generated.lines.length, 'generated.log');
  assert.equal(parser.lastSerial, events.at(-1)?.serial);
});

test('streaming the generated log from a file gives exactly the same', async () => {
  // A different seed and a size over the reader's chunk, so lines straddle chunk boundaries.
  const big = generateAuditLog({ seed: 7, lines: 30_000 });
  const path = join(scratch, 'generated.log');
  writeFileSync(path, auditLogBytes(big.lines));
  const { events, stats } = await readAuditLog(path, ALL_FORMS);
  assertMatchesTruth(events, stats, big.truth, big.lines.length, path);
});

test('a final line without a newline is still read; stdin-style names appear in problems', async () => {
  const path = join(scratch, 'no-newline.log');
  writeFileSync(
    path,
    'type=SECCOMP msg=audit(1700000000.123:456): auid=0 uid=0 gid=0 ses=1 pid=7 comm="cat" exe="/bin/cat" ' +
      'sig=0 arch=c000003e syscall=2 compat=0 ip=0x1 code=0x7ffc0000\ngarbage',
  );
  const stats = emptySourceStats();
  const events: SyscallEvent[] = [];
  for await (const event of readAuditFile(path, stats, { ...ALL_FORMS, file: 'named.log', host: 'h1' }))
    events.push(event);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.host, 'h1');
  assert.deepEqual(stats.problems, [{ where: 'named.log:2', reason: 'not an audit record' }]);
});

test('an endless line is cut and reported, not held whole in memory', async () => {
  const path = join(scratch, 'long.log');
  const huge = 'x'.repeat(3 * 1024 * 1024);
  writeFileSync(path, `${huge}\n${huge}`);
  const { events, stats } = await readAuditLog(path, { ...ALL_FORMS, file: 'long.log' });
  assert.equal(events.length, 0);
  assert.equal(stats.records, 2);
  assert.deepEqual(
    stats.problems.map((problem) => problem.where),
    ['long.log:1', 'long.log:2'],
  );
  assert.match(stats.problems[0]!.reason, /longer than/);
});

const SECCOMP_RAW =
  'type=SECCOMP msg=audit(1700000000.123:456): auid=4294967295 uid=1000 gid=1000 ses=3 subj=unconfined pid=4242 ' +
  'comm=2F746D702F612062 exe="/usr/bin/a" sig=0 arch=c000003e syscall=101 compat=0 ip=0x7f0000001234 ' +
  'code=0x7ffc0000';

test('a SECCOMP record becomes one event at once, with every field', () => {
  const parser = new AuditParser(emptySourceStats(), { ...ALL_FORMS, host: 'fallback' });
  assert.deepEqual(parser.push(SECCOMP_RAW, 1), [
    {
      source: 'audit',
      host: 'fallback',
      time: 1_700_000_000_123,
      serial: 456,
      pid: 4242,
      uid: 1000,
      comm: '/tmp/a b',
      exe: '/usr/bin/a',
      arch: 'x86_64',
      nr: 101,
      syscall: 'ptrace',
      action: { kind: 'log' },
    },
  ]);
  assert.equal(parser.lastSerial, 456);
});

test('the ENRICHED part is not read as fields, and node= names the host', () => {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, { ...ALL_FORMS, host: 'fallback' });
  const enriched = `node=web-1 ${SECCOMP_RAW}\x1dAUID="root" UID="root" ARCH=x86_64 SYSCALL=openat code=0x0`;
  const [event] = parser.push(enriched, 1);
  assert.equal(event?.host, 'web-1');
  assert.equal(event?.syscall, 'ptrace');
  assert.deepEqual(event?.action, { kind: 'log' });
});

test('a SYSCALL group becomes one event when EOE arrives, with arguments and return value', () => {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, ALL_FORMS);
  const stamp = 'msg=audit(1700000001.005:900):';
  assert.deepEqual(
    parser.push(
      `type=SYSCALL ${stamp} arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55ffee001122 a2=241 ` +
        'a3=1b6 items=1 ppid=17709 pid=17721 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 ' +
        'fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)',
      1,
    ),
    [],
  );
  assert.deepEqual(parser.push(`type=CWD ${stamp} cwd="/"`, 2), []);
  assert.deepEqual(parser.push(`type=PATH ${stamp} item=0 name="/etc/shadow" nametype=NORMAL`, 3), []);
  assert.deepEqual(parser.push(`type=PROCTITLE ${stamp} proctitle=7368002D63`, 4), []);
  assert.deepEqual(parser.push(`type=EOE ${stamp} `, 5), [
    {
      source: 'audit',
      host: '',
      time: 1_700_000_001_005,
      serial: 900,
      pid: 17721,
      ppid: 17709,
      uid: 0,
      comm: 'sh',
      exe: '/usr/bin/dash',
      arch: 'x86_64',
      nr: 257,
      syscall: 'openat',
      args: [0xffffff9cn, 0x55ffee001122n, 0x241n, 0x1b6n],
      ret: -13n,
    },
  ]);
  assert.deepEqual(parser.flush(), []);
  assert.equal(stats.events, 1);
  assert.equal(parser.lastSerial, 900);
});

test('an LSM label with a space (AppArmor) does not hide the fields after it', () => {
  const parser = new AuditParser(emptySourceStats(), ALL_FORMS);
  parser.push(
    'type=SYSCALL msg=audit(1700000001.005:903): arch=c000003e syscall=0 success=yes exit=5 a0=3 a1=0 a2=10 ' +
      'a3=0 items=0 ppid=1 pid=2 auid=7 uid=0 comm="cat" exe="/bin/cat" subj=/usr/bin/cat (enforce) key=(null)',
    1,
  );
  const [event] = parser.flush();
  assert.equal(event?.uid, 0);
  assert.equal(event?.syscall, 'read');
});

test('groups of different nodes with the same serial stay apart', () => {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, ALL_FORMS);
  const syscall = (node: string, nr: number): string =>
    `node=${node} type=SYSCALL msg=audit(1700000001.005:77): arch=c000003e syscall=${nr} success=yes exit=0 ` +
    'a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=2 uid=0 comm="cat" exe="/bin/cat" key=(null)';
  parser.push(syscall('a', 0), 1);
  parser.push(syscall('b', 1), 2);
  const closedA = parser.push('node=a type=EOE msg=audit(1700000001.005:77): ', 3);
  assert.deepEqual(
    closedA.map((event) => [event.host, event.syscall]),
    [['a', 'read']],
  );
  assert.deepEqual(
    parser.flush().map((event) => [event.host, event.syscall]),
    [['b', 'write']],
  );
  assert.equal(stats.malformed, 0);
});

test('a group without EOE ends after the window of other lines, or at flush', () => {
  const parser = new AuditParser(emptySourceStats(), ALL_FORMS);
  const syscall =
    'type=SYSCALL msg=audit(1700000001.005:901): arch=c000003e syscall=0 success=yes exit=5 a0=3 a1=0 a2=10 ' +
    'a3=0 items=0 ppid=1 pid=2 uid=0 comm="cat" exe="/bin/cat" key=(null)';
  parser.push(syscall, 1);
  let emitted: SyscallEvent[] = [];
  for (let line = 2; line < 200 && emitted.length === 0; line++) {
    emitted = parser.push(`type=USER_CMD msg=audit(1700000002.000:${1000 + line}): pid=1`, line);
  }
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0]?.syscall, 'read');
  parser.push(syscall.replace(':901)', ':902)'), 300);
  assert.equal(parser.flush().length, 1);
});

test('hostile names decode intact and never start a record', () => {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, ALL_FORMS);
  const comm = Buffer.from('x\ntype=SECCOMP').toString('hex');
  const exe = Buffer.from([0x2f, 0xff, 0x0a]).toString('hex');
  const events = parser.push(
    SECCOMP_RAW.replace('comm=2F746D702F612062', `comm=${comm}`).replace('exe="/usr/bin/a"', `exe=${exe}`),
    1,
  );
  assert.equal(events[0]?.comm, 'x\ntype=SECCOMP');
  assert.equal(events[0]?.exe, '/\xff\n');
  assert.equal(stats.malformed, 0);
});

test('the kernel printk form is read with dmesg and syslog prefixes', () => {
  const body = SECCOMP_RAW.slice(SECCOMP_RAW.indexOf('audit('));
  for (const prefix of ['', '[ 123.456789] ', 'Dec  4 20:00:00 host kernel: [  123.456] ', '6,99,123,-;']) {
    const parser = new AuditParser(emptySourceStats(), ALL_FORMS);
    const [event] = parser.push(`${prefix}audit: type=1326 ${body}`, 1);
    assert.equal(event?.source, 'kmsg', prefix);
    assert.equal(event?.syscall, 'ptrace', prefix);
  }
});

test('x32 and compat ABIs are told apart by AUDIT_ARCH and the x32 bit', () => {
  const parser = new AuditParser(emptySourceStats(), ALL_FORMS);
  const x32 = parser.push(SECCOMP_RAW.replace('syscall=101', `syscall=${0x40000000 + 1}`), 1);
  assert.equal(x32[0]?.arch, 'x32');
  assert.equal(x32[0]?.syscall, 'write');
  const i386 = parser.push(SECCOMP_RAW.replace('arch=c000003e syscall=101', 'arch=40000003 syscall=26'), 2);
  assert.equal(i386[0]?.arch, 'i386');
  assert.equal(i386[0]?.syscall, 'ptrace');
});

test('SECCOMP codes: every kernel action; cut-short or inconsistent codes are malformed', () => {
  const stats = emptySourceStats();
  const parser = new AuditParser(stats, ALL_FORMS);
  const withCode = (code: string, sig: number): SyscallEvent[] =>
    parser.push(SECCOMP_RAW.replace('code=0x7ffc0000', `code=${code}`).replace('sig=0', `sig=${sig}`), 1);
  assert.deepEqual(withCode('0x50000', 0)[0]?.action, { kind: 'errno', errno: 0 });
  assert.deepEqual(withCode('0x80000000', 31)[0]?.action, { kind: 'kill_process' });
  assert.deepEqual(withCode('0xffff0000', 31)[0]?.action, { kind: 'kill_process' });
  assert.deepEqual(withCode('0x0', 31)[0]?.action, { kind: 'kill_thread' });
  // Strict mode (SECCOMP_SET_MODE_STRICT) kills with SIGKILL and logs it so.
  assert.deepEqual(withCode('0x0', 9)[0]?.action, { kind: 'kill_thread' });
  assert.equal(stats.malformed, 0);
  for (const [code, sig] of [
    ['0x7ffc0', 0],
    ['0x7fc0000', 0],
    ['0x', 0],
    ['7ffc0000', 0],
    ['0x7ffc0000', 31],
    ['0x80000000', 0],
  ] as const) {
    assert.deepEqual(withCode(code, sig), [], code);
  }
  assert.equal(stats.malformed, 6);
});

test('loss: the counter counts by its rises, messages alone count one each, never both', () => {
  const stats = emptySourceStats();
  const loss = new AuditLossCounter(stats);
  loss.messages(1);
  loss.messages(1);
  assert.equal(stats.lost, 2);
  loss.counter(5);
  loss.messages(1);
  assert.equal(stats.lost, 5);
  loss.counter(9);
  assert.equal(stats.lost, 9);
  loss.counter(2); // a reboot reset the counter
  assert.equal(stats.lost, 11);

  const parserStats = emptySourceStats();
  const parser = new AuditParser(parserStats, ALL_FORMS);
  const lost = [
    '[ 1.0] audit: audit_lost=3 audit_rate_limit=0 audit_backlog_limit=64',
    '[ 1.0] audit: backlog limit exceeded',
    '[ 2.0] kauditd_printk_skb: 12 callbacks suppressed',
    'type=DAEMON_ERR msg=audit(1700000000.000:1): op=queue lost=20 res=failed',
  ].map((line, index) => {
    parser.push(line, index + 1);
    return parserStats.lost;
  });
  assert.deepEqual(lost, [3, 3, 13, 20]);
  assert.equal(parserStats.malformed, 0);
});

test('by default syslog and kmsg lines (writable by any local user) are not read as records', () => {
  const forged = [
    'Dec  4 22:00:00 web-1 alice: type=SECCOMP msg=audit(1733349600.000:77): auid=1000 uid=0 gid=0 ses=1 pid=1234 comm="sshd" exe="/usr/sbin/sshd" sig=0 arch=c000003e syscall=101 compat=0 ip=0x0 code=0x7ffc0000',
    'Dec  4 22:00:01 web-1 bob[5]: x audit: type=1326 audit(1733349601.000:78): auid=1000 uid=0 gid=0 ses=1 pid=4321 comm="sshd" exe="/usr/sbin/sshd" sig=0 arch=c000003e syscall=101 compat=0 ip=0x0 code=0x7ffc0000',
  ];
  const genuine =
    'type=SECCOMP msg=audit(1733349602.000:79): auid=1000 uid=0 gid=0 ses=1 pid=999 comm="app" exe="/usr/bin/app" sig=0 arch=c000003e syscall=101 compat=0 ip=0x0 code=0x7ffc0000';
  const read = (unauthenticatedForms: boolean) => {
    const stats = emptySourceStats();
    const parser = new AuditParser(stats, { file: 'log', unauthenticatedForms });
    const events = [...forged, genuine].flatMap((line, index) => parser.push(line, index + 1));
    return { pids: [...events, ...parser.flush()].map((event) => event.pid), stats };
  };
  assert.deepEqual(read(true).pids, [1234, 4321, 999], 'asked for, the kmsg/syslog forms are read');
  const strict = read(false);
  assert.deepEqual(strict.pids, [999]);
  assert.equal(strict.stats.malformed, 2);
  assert.match(strict.stats.problems[0]?.reason ?? '', /not in auditd's own log form/);
});
