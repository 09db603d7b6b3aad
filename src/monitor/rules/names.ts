/** Process names for rules: executable basenames and name patterns (`php-fpm*`). */
import type { SyscallEvent } from '../../sources/event.js';

/** The last path component. */
export function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

/** The executable's basename, or the task name when the exe is unknown; '' when neither is. */
export function processName(exe: string | undefined, comm: string | undefined): string {
  if (exe !== undefined && exe !== '') return baseName(exe);
  return comm ?? '';
}

/** The event's process name (exe basename, else comm). */
export function eventProcessName(event: SyscallEvent): string {
  return processName(event.exe, event.comm);
}

/** True when `name` equals a pattern, or starts with a pattern's text before a trailing `*`. */
export function nameMatches(name: string, patterns: readonly string[]): boolean {
  if (name === '') return false;
  return patterns.some((pattern) =>
    pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern,
  );
}

/** True when `path` lies under one of `dirs` (each given without a trailing slash). */
export function isUnder(path: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => path.startsWith(`${dir.replace(/\/+$/, '')}/`));
}

/** The label for alerts: the exe, or `[comm]` when only the task name is known, '' when neither. */
export function alertExe(exe: string | undefined, comm: string | undefined): string {
  if (exe !== undefined && exe !== '') return exe;
  return comm === undefined || comm === '' ? '' : `[${comm}]`;
}
