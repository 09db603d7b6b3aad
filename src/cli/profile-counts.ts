/** Reads a syscall profile for profile-guided layout: a JSON object of syscall name → observed count. */
import { readFileSync } from 'node:fs';

export function readProfileCounts(path: string): ReadonlyMap<string, number> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path}: a profile is a JSON object of syscall name -> count`);
  }
  const counts = new Map<string, number>();
  for (const [name, count] of Object.entries(parsed)) {
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
      throw new Error(`${path}: count for '${name}' must be a non-negative number`);
    }
    counts.set(name, count);
  }
  return counts;
}
