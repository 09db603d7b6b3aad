import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptySourceStats } from '../../src/sources/event.js';
import { eventsFromMaps, parseBpftraceLine, type BpftraceMaps } from '../../src/sources/ebpf-output.js';
import { learnedCalls, recordingProgram } from '../../src/sources/ebpf-program.js';
import { LEARNED_ARGUMENTS } from '../../src/syscalls/learned-args.js';

test('learned syscalls are those of LEARNED_ARGUMENTS, by their number on the ABI', () => {
  const calls = learnedCalls('x86_64');
  assert.deepEqual(calls.map((call) => call.syscall).sort(), Object.keys(LEARNED_ARGUMENTS).sort());
  assert.deepEqual(
    calls.find((call) => call.syscall === 'ioctl'),
    { syscall: 'ioctl', nr: 16, arguments: LEARNED_ARGUMENTS['ioctl'] },
  );
  // s390x passes clone's flags second: the key follows the ABI.
  assert.equal(learnedCalls('s390x').find((call) => call.syscall === 'clone')?.arguments[0]?.index, 1);
});

test('the recording program arms at the stub exec, counts per (pid, image, id), keys learned arguments', () => {
  const program = recordingProgram({ kind: 'exec-of', pid: 4242 }, 'x86_64');
  assert.match(program, /sched_process_exec \/@track\[pid\] != 0 \|\| \(pid == 4242 && @armed == 0\)\//);
  // The stub's exec of the command is the launcher's: it arms the recording but is not counted.
  assert.doesNotMatch(program, /59/);
  assert.match(program, /raw_syscalls:sys_enter \{\n {2}\$image = @track\[pid\];\n {2}if \(\$image != 0\)/);
  assert.match(program, /thread_info\.status & 2/); // i386 tasks told apart on x86_64
  // Learned arguments come from the same probe's registers, for native numbers only; the rest go to @calls.
  assert.match(
    program,
    /if \(\$id == 41\) \{ @arg_socket\[pid, \$image, \(args->args\[0\] & 0xffffffff\)\] = count\(\); \}/,
  );
  assert.match(
    program,
    /else if \(\$id == 16\) \{ @arg_ioctl\[pid, \$image, \(args->args\[1\] & 0xffffffff\)\]/,
  );
  assert.match(program, /else \{ @calls\[pid, \$image, \$id\] = count\(\); \}/);
  assert.doesNotMatch(program, /syscalls:sys_enter_/);
  assert.doesNotMatch(recordingProgram({ kind: 'exec-of', pid: 1 }, 'aarch64'), /thread_info/);
});

test('pid and cgroup targets: running processes are seeded with their own pid as image', () => {
  const pids = recordingProgram({ kind: 'pids', pids: [10, 20] }, 'x86_64');
  assert.match(pids, /BEGIN \{ @track\[10\] = 10; @track\[20\] = 20;/);
  const cgroup = recordingProgram(
    { kind: 'cgroup', path: '/sys/fs/cgroup/system.slice/docker-ab.scope', pids: [7] },
    'x86_64',
  );
  assert.match(
    cgroup,
    /raw_syscalls:sys_enter \/cgroup == cgroupid\("\/sys\/fs\/cgroup\/system\.slice\/docker-ab\.scope"\)\//,
  );
  assert.throws(
    () => recordingProgram({ kind: 'cgroup', path: '/x") { system("id")', pids: [] }, 'x86_64'),
    /characters/,
  );
  assert.throws(() => recordingProgram({ kind: 'pids', pids: [0] }, 'x86_64'), /not a process id/);
});

function mapsOf(lines: readonly string[]): {
  maps: BpftraceMaps;
  stats: ReturnType<typeof emptySourceStats>;
} {
  const stats = emptySourceStats();
  const maps: BpftraceMaps = new Map();
  lines.forEach((line, index) => {
    const record = parseBpftraceLine(line, `out:${index + 1}`, stats);
    if (record?.type === 'map') maps.set(record.name, record.entries);
    if (record?.type === 'lost') stats.lost += record.count;
  });
  return { maps, stats };
}

const IMAGE = '6375727855953';
const OUTPUT = [
  '{"type": "attached_probes", "data": {"probes": 12}}',
  '{"type": "printf", "data": "sysfence: attached\\n"}',
  '',
  `{"type": "map", "data": {"@arg_socket": {"100,${IMAGE},10": 1, "100,${IMAGE},2": 2}}}`,
  `{"type": "map", "data": {"@arg_ioctl": {"100,${IMAGE},21505": 4}}}`,
  `{"type": "map", "data": {"@calls": {"100,${IMAGE},59": 1, "101,${IMAGE},1073741863": 2, "101,${IMAGE},4294967316": 5, "300,300,0": 7, "400,0,1": 1}}}`,
  `{"type": "map", "data": {"@image_pid": {"${IMAGE}": 100}}}`,
  `{"type": "map", "data": {"@image_comm": {"${IMAGE}": "python3"}}}`,
  `{"type": "map", "data": {"@image_path": {"${IMAGE}": "/usr/bin/python3"}}}`,
];

test('maps become events: learned values split the counts, compat and x32 ids get their ABI, images name exes', () => {
  const { maps, stats } = mapsOf(OUTPUT);
  assert.equal(stats.malformed, 0);
  const context = {
    arch: 'x86_64' as const,
    host: 'h',
    time: 5,
    exeOfPid: new Map([
      [300, '/usr/sbin/nginx'],
      [400, '/usr/bin/late'],
    ]),
  };
  const events = eventsFromMaps(maps, context, stats);
  const find = (pid: number, syscall: string, arg?: bigint): unknown =>
    events.filter(
      (e) =>
        e.pid === pid &&
        e.syscall === syscall &&
        (arg === undefined || e.args?.[e.syscall === 'ioctl' ? 1 : 0] === arg),
    );
  assert.deepEqual(
    (find(100, 'socket') as { count: number; args: bigint[] }[]).map((e) => [e.args, e.count]).sort(),
    [
      [[10n], 1],
      [[2n], 2],
    ].sort(),
  );
  // Learned syscalls' native calls are counted with their values only.
  assert.deepEqual(
    (find(100, 'ioctl') as { args: bigint[]; count: number }[]).map((e) => [e.args, e.count]),
    [[[0n, 0x5401n], 4]],
  );
  const execve = events.find((e) => e.syscall === 'execve');
  assert.equal(execve?.exe, '/usr/bin/python3');
  assert.equal(execve?.comm, 'python3');
  assert.equal(execve?.source, 'ebpf');
  assert.deepEqual(
    events
      .filter((e) => e.pid === 101)
      .map((e) => [e.arch, e.nr, e.syscall, e.count])
      .sort(),
    [
      ['i386', 20, 'getpid', 5],
      ['x32', 0x40000027, 'getpid', 2],
    ].sort(),
  );
  // A process running at the start: its image is its pid; image 0 falls back to the pid's exe.
  assert.equal(events.find((e) => e.pid === 300)?.exe, '/usr/sbin/nginx');
  assert.equal(events.find((e) => e.pid === 400)?.exe, '/usr/bin/late');
  assert.equal(stats.events, events.length);
});

test('bpftrace output is read strictly: malformed lines and keys are problems, lost events are counted', () => {
  const { maps, stats } = mapsOf([
    'Attaching 12 probes...',
    '{"type": "map", "data": {"@calls": {"1,2": 3, "1,2,x": 1, "1,2,3": -1, "1,2,4": 2}}}',
    '{"type": "map", "data": 7}',
    '{"type": "lost_events", "data": {"events": 12}}',
    'Lost 3 events',
    '{"data": {}}',
  ]);
  assert.equal(stats.malformed, 3);
  assert.equal(stats.lost, 15);
  const events = eventsFromMaps(maps, { arch: 'x86_64', host: '', time: 0, exeOfPid: new Map() }, stats);
  assert.equal(events.length, 1);
  assert.equal(stats.malformed, 6);
  assert.match(
    stats.problems.map((p) => `${p.where} ${p.reason}`).join('\n'),
    /@calls\[1,2\] expected \[pid, image, id\]/,
  );
});

test('the command started by a relative path: its first image is named against its working directory', () => {
  const { maps, stats } = mapsOf([
    `{"type": "map", "data": {"@calls": {"100,5000,39": 1, "100,6000,39": 1}}}`,
    `{"type": "map", "data": {"@image_pid": {"5000": 100, "6000": 100}}}`,
    `{"type": "map", "data": {"@image_path": {"5000": "./bin/server", "6000": "./other"}}}`,
  ]);
  const context = {
    arch: 'x86_64' as const,
    host: 'h',
    time: 0,
    exeOfPid: new Map<number, string>(),
    launched: { pid: 100, cwd: '/srv/app' },
  };
  const exes = eventsFromMaps(maps, context, stats)
    .map((e) => e.exe)
    .sort();
  // The second exec may run in another directory (chdir): kept as given.
  assert.deepEqual(exes, ['./other', '/srv/app/bin/server']);
});
