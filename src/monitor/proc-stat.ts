/**
 * /proc/PID/stat reading: a process's start time (field 22, clock ticks since boot) is what tells a
 * process apart from a later one that reuses its pid; field 3 is its state ('T' when stopped).
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc reports times in these ticks on every Linux ABI (fixed at 100 for user space). */
export const USER_HZ = 100;

export interface ProcStat {
  readonly pid: number;
  /** 'R', 'S', 'D', 'T' (stopped), 't' (traced), 'Z' (zombie), ... */
  readonly state: string;
  readonly ppid: number;
  /** Field 22: start time in USER_HZ ticks after boot. */
  readonly startTicks: number;
}

/**
 * Parses the text of /proc/PID/stat. The comm field (2) is in parentheses and may itself hold spaces
 * and ')' (it is attacker-chosen), so fields are counted from the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // After ") " come fields 3.. : state is field 3, ppid field 4, starttime field 22 (index 19 here).
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (state === undefined || !Number.isSafeInteger(pid) || !Number.isSafeInteger(startTicks))
    return undefined;
  return { pid, state, ppid, startTicks };
}

/** The live process's stat, or undefined when it is gone (or /proc is unreadable). */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

let bootTimeMs: number | undefined;

/** The boot time (ms since the epoch), from /proc/stat `btime` (whole seconds), read once. */
export function bootTime(procRoot = '/proc'): number {
  if (bootTimeMs === undefined) {
    const match = /^btime (\d+)$/m.exec(readFileSync(`${procRoot}/stat`, 'utf8'));
    if (match === null) throw new Error(`${procRoot}/stat has no btime line`);
    bootTimeMs = Number(match[1]) * 1000;
  }
  return bootTimeMs;
}

/** When a process started, as ms since the epoch (precision: btime's whole second plus one tick). */
export function startEpochMs(startTicks: number): number {
  return bootTime() + (startTicks * 1000) / USER_HZ;
}
