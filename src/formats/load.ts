/**
 * Loading a policy in whichever format a file holds: an OCI / Docker seccomp profile (JSON) is imported
 * with runc's semantics, anything else is read as a sysfence policy (YAML or JSON, with `extends`).
 */
import { readFile } from 'node:fs/promises';
import type { Action } from '../policy/action.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { loadPolicy } from '../policy/load.js';
import type { Arch } from '../syscalls/arch.js';
import { importOci } from './oci-import.js';

export type PolicyFormat = 'sysfence' | 'oci';

export interface LoadOptions {
  /** OCI only: the native architecture runc would run on. */
  readonly arch?: Arch;
  /** OCI only: the bounding capability set Docker's includes/excludes test. */
  readonly caps?: readonly string[];
  /** OCI only: the kernel release Docker's minKernel tests. */
  readonly kernelVersion?: string;
  /** OCI only: the action for syscall numbers sysfence's table does not know. */
  readonly unknownAction?: Action;
}

export interface LoadedPolicy {
  readonly policy: ResolvedPolicy;
  readonly warnings: readonly string[];
  readonly format: PolicyFormat;
}

/** Reads a policy file of either format; a PolicyError (located) when it cannot be read faithfully. */
export async function loadAnyPolicy(path: string, options: LoadOptions = {}): Promise<LoadedPolicy> {
  const text = await readFile(path, 'utf8');
  if (isOciProfile(text)) {
    const { policy, warnings } = importOci(text, path, options);
    return { policy, warnings, format: 'oci' };
  }
  return { policy: await loadPolicy(path), warnings: [], format: 'sysfence' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True for JSON that is an OCI / Docker seccomp profile: a `defaultAction` spelled SCMP_ACT_*, a
 * `syscalls` list whose entries have `names`/`name`, or a config.json with `linux.seccomp`.
 * A sysfence policy spells actions in lower case and lists `rules`, so the two never collide.
 */
export function isOciProfile(text: string): boolean {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return false;
  }
  if (!isObject(document)) return false;
  const linux = document['linux'];
  if (isObject(linux) && 'seccomp' in linux) return true;
  const defaultAction = document['defaultAction'];
  if (typeof defaultAction === 'string' && defaultAction.startsWith('SCMP_ACT_')) return true;
  const syscalls = document['syscalls'];
  return (
    Array.isArray(syscalls) &&
    syscalls.some((entry) => isObject(entry) && ('names' in entry || 'name' in entry))
  );
}
