import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptySourceStats, type SyscallEvent } from '../../src/sources/event.js';
import { decodeCString, rawArguments, StraceParser } from '../../src/sources/strace-parse.js';

/** Real `strace -f -qq -ttt -X raw -e raw=...` output (python3 running sh -c and a thread), trimmed. */
const OUTPUT = `661   1796418995.758537 execve("/usr/bin/python3", ["/usr/bin/python3", "-c", "import socket,os"...], 0x7fff732b9428 /* 35 vars */) = 0
661   1796418995.769337 ioctl(0x3, 0x5401, 0x7fff4d01d5d0) = -1 ENOTTY (Inappropriate ioctl for device)
661   1796418995.770548 ioctl(0x3, 0x5401, 0x7fff4d01cad0) = -1 ENOTTY (Inappropriate ioctl for device)
661   1796418995.781145 newfstatat(-100, "/usr/lib/python3.11/a) = 5", {st_mode=0100644, st_size=37282, ...}, 0) = 0
661   1796418995.793564 socket(0xa, 0x80001, 0) = 0x3
661   1796418995.793979 clone3({flags=0x4100, exit_signal=17, stack=0x7f0a877ff000, stack_size=0x9000}, 88 <unfinished ...>
662   1796418995.795000 close(0x5)          = 0
662   1796418995.797359 execve("/bin/sh", ["sh", "-c", "sh -c \\"ls\\""], 0x7fff4d01e728 /* 35 vars */ <unfinished ...>
661   1796418995.798916 <... clone3 resumed>) = 662
661   1796418995.799035 wait4(662,  <unfinished ...>
662   1796418995.799044 <... execve resumed>) = 0
662   1796418995.800000 execve("/nonexistent/ls", ["ls"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)
662   1796418995.803210 getpid()        = 662
662   1796418995.815029 --- SIGCHLD {si_signo=17, si_code=0x1, si_pid=663, si_uid=0, si_status=0} ---
661   1796418995.815268 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 662
661   1796418995.815300 syscall_0x3e7(0, 0x7f4dae46b0f7, 0xffffffffffffff80, 0, 0, 0) = -1 ENOSYS (Function not implemented)
665   1796418995.815791 getpid()        = 661
661   1796418995.816534 --- SIGUSR1 {si_signo=10, si_code=0, si_pid=661, si_uid=0} ---
665   1796418995.817178 +++ killed by SIGUSR1 +++
662   1796418995.817190 +++ exited with 0 +++
661   1796418995.817200 ioctl(0x3, 0x5401, 0x7fff4d01d5d0
661   1796418995.817300 write(1, "x", 1
[ Process PID=670 runs in 32 bit mode. ]
670   1796418995.818000 getpid()        = 670
`;

function parse(
  text: string,
  launchCwd?: string,
): { events: SyscallEvent[]; stats: ReturnType<typeof emptySourceStats> } {
  const stats = emptySourceStats();
  const parser = new StraceParser('x86_64', 'h', stats, launchCwd);
  text
    .split('\n')
    .filter((line) => line !== '')
    .forEach((line, index) => parser.line(line, `strace.out:${index + 1}`));
  return { events: parser.events(), stats };
}

function total(events: readonly SyscallEvent[], filter: (event: SyscallEvent) => boolean): number {
  return events.filter(filter).reduce((sum, event) => sum + (event.count ?? 1), 0);
}

test('calls count once at entry; resumed, signal and exit lines only finish or are skipped', () => {
  const { events, stats } = parse(OUTPUT);
  assert.equal(
    total(events, (e) => e.syscall === 'clone3'),
    1,
  );
  assert.equal(
    total(events, (e) => e.syscall === 'wait4'),
    1,
  );
  // The command's own execve (strace's, the first line) is not counted: 662's two execs are.
  assert.equal(
    total(events, (e) => e.syscall === 'execve'),
    2,
  );
  assert.equal(
    total(events, () => true),
    13,
  );
  assert.ok(events.every((e) => e.source === 'strace' && e.host === 'h'));
  // Two lines cut short are problems, not calls.
  assert.equal(stats.malformed, 2);
  assert.deepEqual(
    stats.problems.map((p) => p.where),
    ['strace.out:21', 'strace.out:22'],
  );
});

test('executables: exec path per epoch, a child before exec runs its creator image, threads too', () => {
  const { events } = parse(OUTPUT);
  const exeOf = (pid: number, syscall: string): string[] => [
    ...new Set(events.filter((e) => e.pid === pid && e.syscall === syscall).map((e) => e.exe ?? '?')),
  ];
  assert.deepEqual(exeOf(661, 'execve'), []); // the command's own exec is the launcher's, not counted
  assert.deepEqual(exeOf(661, 'socket'), ['/usr/bin/python3']);
  assert.deepEqual(exeOf(662, 'close'), ['/usr/bin/python3']); // before the clone result was printed
  assert.deepEqual(exeOf(662, 'execve').sort(), ['/bin/sh', '/usr/bin/python3']); // its exec, then a failed one
  assert.deepEqual(exeOf(662, 'getpid'), ['/bin/sh']);
  assert.deepEqual(exeOf(665, 'getpid'), ['?']); // its creator's clone is not in the excerpt
});

test('learned arguments are raw numbers, masked, keyed; unknown numbers and 32-bit processes keep their ABI', () => {
  const { events } = parse(OUTPUT);
  const socket = events.find((e) => e.syscall === 'socket');
  assert.deepEqual(socket?.args, [0xan]);
  const ioctl = events.filter((e) => e.syscall === 'ioctl');
  assert.deepEqual(
    ioctl.map((e) => [e.args, e.count]),
    [
      [[0n, 0x5401n], 1],
      [[0n, 0x5401n], 1],
    ],
  ); // first and rest
  assert.deepEqual(
    ioctl.map((e) => e.time),
    [1796418995769, 1796418995771],
  );
  const unknown = events.find((e) => e.nr === 0x3e7);
  assert.equal(unknown?.syscall, undefined);
  const compat = events.find((e) => e.pid === 670);
  assert.deepEqual([compat?.arch, compat?.nr, compat?.syscall], ['i386', 20, 'getpid']);
});

test('raw argument lists and C strings', () => {
  assert.deepEqual(rawArguments('0xa, 0x80001, 0'), [10n, 0x80001n, 0n]);
  assert.deepEqual(rawArguments('-100, 0x1'), [2n ** 64n - 100n, 1n]);
  assert.equal(rawArguments('AF_INET, SOCK_STREAM, 0'), undefined);
  assert.equal(decodeCString('a\\"b\\\\c\\n\\x41\\101\\303\\251'), 'a"b\\c\nAAé');
});

test('the command, executed by a relative path, is named against its working directory; later relative execs are not', () => {
  const { events } = parse(
    [
      '700 1.000000 execve("./bin/server", ["./bin/server"], 0x1 /* 1 var */) = 0',
      '700 1.000100 getpid() = 700',
      '700 1.000200 execve("./other", ["./other"], 0x1 /* 1 var */) = 0',
      '700 1.000300 getppid() = 1',
    ].join('\n'),
    '/srv/app',
  );
  assert.deepEqual(
    events.map((e) => [e.syscall, e.exe]),
    [
      ['getpid', '/srv/app/bin/server'],
      ['execve', '/srv/app/bin/server'],
      ['getppid', './other'], // its cwd may have changed since: kept as given
    ],
  );
});
