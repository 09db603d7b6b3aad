/**
 * Finds the executable a command names, the way execvp(3) would, before anything is launched: a
 * missing or non-executable command must be an error while nothing has run, not an exec failure
 * inside the confined child.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** execvp's search path when PATH is unset (glibc's confstr(_CS_PATH)). */
const DEFAULT_PATH = '/bin:/usr/bin';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path execvp would run for `command`: a name with a slash is taken as a path (relative to
 * `cwd`); a bare name is searched in `pathVariable` (an empty entry meaning `cwd`, as execvp does).
 */
export function resolveCommand(command: string, pathVariable: string | undefined, cwd: string): string {
  if (command === '') throw new Error('the command is empty');
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    if (!isExecutableFile(path)) throw new Error(`${command}: not an executable file`);
    return path;
  }
  const searched = pathVariable ?? DEFAULT_PATH;
  for (const dir of searched.split(delimiter)) {
    const candidate = resolve(cwd, join(dir === '' ? '.' : dir, command));
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`${command}: command not found (searched PATH=${searched})`);
}
