/**
 * Real peers for the BPF tools' tests, driven through Debian's /usr/bin/python3: libseccomp (python3-seccomp)
 * writes filters, and this machine's kernel loads and runs them in forked children (ctypes: prctl +
 * seccomp(2)). No mocks: a missing tool fails the test with an install hint.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeProgram, type Program } from '../../src/bpf/insn.js';
import type { Action } from '../../src/policy/action.js';
import { hostArch, syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import { libseccompCompile, libseccompUnavailable, type PeerRule } from '../../bench/peers/libseccomp.js';

const PYTHON = '/usr/bin/python3';

/**
 * libseccomp's filter (optimize level 1, its default) for hand-written rules, through the shared peer in
 * bench/peers; libseccomp's default bad-arch action (kill_thread) is kept.
 */
export function libseccompProgram(
  defaultAction: Action,
  arches: readonly Arch[],
  rules: readonly PeerRule[],
): Program {
  const missing = libseccompUnavailable();
  if (missing !== undefined) throw new Error(missing);
  return libseccompCompile({ defaultAction, arches, optimize: 1, rules }).program;
}

/** What happened to a forked child that loaded a filter and made one syscall. */
export type KernelOutcome =
  | { readonly kind: 'rejected'; readonly errno: number }
  | { readonly kind: 'returned'; readonly result: number; readonly errno: number }
  | { readonly kind: 'signalled'; readonly signal: number }
  | { readonly kind: 'exited'; readonly code: number };

export interface KernelCase {
  readonly program: Program;
  /** The syscall the child makes after loading the filter; omit to only load it. */
  readonly call?: { readonly nr: number; readonly args: readonly bigint[] };
}

// Each case runs in a forked child: set no_new_privs, seccomp(SET_MODE_FILTER), make the call, report
// through the exit status (the pipe back would itself be filtered). Status 200+e: load failed with e;
// 1: call returned, 2+e: call failed with errno e (e <= 190).
const CHILD_SCRIPT = `
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
SECCOMP_NR = int(sys.argv[1])
results = []
for case in json.load(sys.stdin):
    code = bytes.fromhex(case['filter'])
    buf = ctypes.create_string_buffer(code, len(code))
    prog = Fprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    pid = os.fork()
    if pid == 0:
        libc.prctl(38, 1, 0, 0, 0)
        if libc.syscall(SECCOMP_NR, 1, 0, ctypes.byref(prog)) != 0:
            os._exit(200 + min(ctypes.get_errno(), 55))
        call = case.get('call')
        if call is None:
            os._exit(0)
        args = [ctypes.c_ulong(int(a)) for a in call['args']]
        r = libc.syscall(ctypes.c_long(call['nr']), *args)
        os._exit(2 + min(ctypes.get_errno(), 190) if r == -1 else 1)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        results.append({'signal': os.WTERMSIG(status)})
    else:
        results.append({'code': os.WEXITSTATUS(status)})
print(json.dumps(results))
`;

function toOutcome(raw: { signal?: number; code?: number }, loadOnly: boolean): KernelOutcome {
  if (raw.signal !== undefined) return { kind: 'signalled', signal: raw.signal };
  const code = raw.code ?? -1;
  if (code >= 200) return { kind: 'rejected', errno: code - 200 };
  if (loadOnly) return { kind: 'exited', code };
  if (code === 1) return { kind: 'returned', result: 0, errno: 0 };
  if (code >= 2) return { kind: 'returned', result: -1, errno: code - 2 };
  return { kind: 'exited', code };
}

/** Loads each program into a fresh child of this machine's kernel and reports what happened. */
export function kernelRun(cases: readonly KernelCase[]): KernelOutcome[] {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install python3`);
  const seccompNr = syscallNumber(hostArch(), 'seccomp');
  if (seccompNr === undefined) throw new Error(`no seccomp syscall number for ${hostArch()}`);
  const input = cases.map((c) => ({
    filter: encodeProgram(c.program).toString('hex'),
    call: c.call === undefined ? undefined : { nr: c.call.nr, args: c.call.args.map(String) },
  }));
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-kernel-'));
  try {
    const script = join(dir, 'child.py');
    writeFileSync(script, CHILD_SCRIPT);
    const stdout = execFileSync(PYTHON, [script, String(seccompNr)], {
      input: JSON.stringify(input),
      maxBuffer: 1 << 26,
    });
    const raw = JSON.parse(stdout.toString()) as { signal?: number; code?: number }[];
    return raw.map((r, i) => toOutcome(r, cases[i]?.call === undefined));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
