/**
 * Naming an executable the way the kernel does: recorders see the path exec was given (`/usr/bin/python3`,
 * `./run.sh`), while /proc/PID/exe and audit's `exe=` name the file that runs (`/usr/bin/python3.11`, or a
 * script's interpreter). Recorded paths are resolved at the end of a recording, in user space, so traces
 * from audit, eBPF and strace name the same executable and `learn --exe` matches across them.
 */
import { open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';

/** The kernel reads this much of a file to find a `#!` line (BINPRM_BUF_SIZE). */
const SHEBANG_BUFFER = 256;
/** Interpreter levels the kernel follows (a script whose interpreter is a script ...): BINPRM_MAX_RECURSION. */
const MAX_INTERPRETER_DEPTH = 4;

/** The interpreter a `#!` line names, or undefined when the file is not a script (ELF and others). */
export function shebangInterpreter(head: Buffer): string | undefined {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const line = head.subarray(2).toString('latin1').split('\n')[0] as string;
  const interpreter = line.replace(/^[ \t]+/, '').split(/[ \t\0]/)[0];
  return interpreter === undefined || interpreter === '' ? undefined : interpreter;
}

async function fileHead(path: string): Promise<Buffer | undefined> {
  try {
    const file = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(SHEBANG_BUFFER);
      const { bytesRead } = await file.read(buffer, 0, SHEBANG_BUFFER, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The file the kernel runs for an exec of `path`: symbolic links resolved, a script replaced by its
 * interpreter. A relative path is resolved against `cwd` (the process's working directory) when it is
 * known. When the file cannot be found (deleted since, or relative with no cwd) the path stays as given:
 * a name we are unsure of is never replaced by a guess.
 */
export async function resolveExecutable(path: string, cwd?: string, depth = 0): Promise<string> {
  if (!isAbsolute(path) && cwd === undefined) return path;
  let real: string;
  try {
    real = await realpath(isAbsolute(path) ? path : resolve(await realpath(cwd as string), path));
  } catch {
    return path;
  }
  const head = depth < MAX_INTERPRETER_DEPTH ? await fileHead(real) : undefined;
  const interpreter = head === undefined ? undefined : shebangInterpreter(head);
  return interpreter === undefined ? real : resolveExecutable(interpreter, cwd, depth + 1);
}

/** Resolves many paths, each distinct (path, cwd) once; gives a lookup from the path as recorded. */
export class ExecutableResolver {
  private readonly resolved = new Map<string, Promise<string>>();

  /** The resolved name of `path` exec'd in `cwd` (see resolveExecutable). */
  resolve(path: string, cwd?: string): Promise<string> {
    const key = `${cwd ?? ''}\0${path}`;
    let found = this.resolved.get(key);
    if (found === undefined) {
      found = resolveExecutable(path, cwd);
      this.resolved.set(key, found);
    }
    return found;
  }
}

/** The events with their `exe` resolved (see resolveExecutable); `cwdOf` gives a process's cwd where known. */
export async function withResolvedExecutables<T extends { readonly pid: number; readonly exe?: string }>(
  events: readonly T[],
  cwdOf: (event: T) => string | undefined = () => undefined,
): Promise<T[]> {
  const resolver = new ExecutableResolver();
  return Promise.all(
    events.map(async (event) =>
      event.exe === undefined ? event : { ...event, exe: await resolver.resolve(event.exe, cwdOf(event)) },
    ),
  );
}

/** Whether process `pid` sees the same files as sysfence (same mount namespace): only then do its paths resolve here. */
export async function sharesMountNamespace(pid: number): Promise<boolean> {
  try {
    const [ours, theirs] = await Promise.all([
      readlink('/proc/self/ns/mnt'),
      readlink(`/proc/${pid}/ns/mnt`),
    ]);
    return ours === theirs;
  } catch {
    return false;
  }
}
