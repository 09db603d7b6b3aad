/**
 * Loading a policy in whichever format a file holds: an OCI / Docker seccomp profile (JSON) is imported
 * with runc's semantics, a Kubernetes SPO SeccompProfile (YAML) with its base profiles, a systemd unit or
 * drop-in with its SystemCall* settings, a Firecracker seccompiler file (one thread's filter), and
 * anything else is read as a sysfence policy (YAML or JSON, with `extends`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Action } from '../policy/action.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { loadPolicy } from '../policy/load.js';
import type { Arch } from '../syscalls/arch.js';
import { importFirecracker } from './firecracker-import.js';
import { importOci } from './oci-import.js';
import { importSpo, isSpoProfileText, type SpoSourceText } from './spo-import.js';
import { importSystemd, type SystemdUnitText } from './systemd-import.js';

export type PolicyFormat = 'sysfence' | 'oci' | 'spo' | 'systemd' | 'firecracker';

export interface LoadOptions {
  /** OCI, SPO, systemd (`native`), Firecracker (the target): the native architecture. */
  readonly arch?: Arch;
  /** OCI only: the bounding capability set Docker's includes/excludes test. */
  readonly caps?: readonly string[];
  /** OCI only: the kernel release Docker's minKernel tests. */
  readonly kernelVersion?: string;
  /** OCI only: the action for syscall numbers sysfence's table does not know. */
  readonly unknownAction?: Action;
  /** Firecracker only: the thread whose filter to load (default: the first in the file). */
  readonly thread?: string;
  /** SPO only: the SeccompProfile to load (default: the one no other profile in the file builds on). */
  readonly spoProfile?: string;
}

export interface LoadedPolicy {
  readonly policy: ResolvedPolicy;
  readonly warnings: readonly string[];
  readonly format: PolicyFormat;
}

/** Reads a policy file of any supported format; a PolicyError (located) when it cannot be read faithfully. */
export async function loadAnyPolicy(path: string, options: LoadOptions = {}): Promise<LoadedPolicy> {
  const text = await readFile(path, 'utf8');
  if (isFirecrackerFile(text)) return { ...loadFirecracker(text, path, options), format: 'firecracker' };
  if (isOciProfile(text)) {
    const { policy, warnings } = importOci(text, path, options);
    return { policy, warnings, format: 'oci' };
  }
  if (isSpoProfileText(text)) {
    const sources = [{ text, file: path }, ...(await siblingSpoFiles(path))];
    const { spoProfile, ...rest } = options;
    const spoOptions = spoProfile === undefined ? rest : { ...rest, profile: spoProfile };
    return { ...importSpo(sources, spoOptions), format: 'spo' };
  }
  if (isSystemdUnit(path, text)) {
    const units = [{ text, file: path }, ...(await dropIns(path))];
    return { ...importSystemd(units, options), format: 'systemd' };
  }
  return { policy: await loadPolicy(path), warnings: [], format: 'sysfence' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * True for JSON that is an OCI / Docker seccomp profile: a `defaultAction` spelled SCMP_ACT_*, a
 * `syscalls` list whose entries have `names`/`name`, or a config.json with `linux.seccomp`.
 * A sysfence policy spells actions in lower case and lists `rules`, so the two never collide.
 */
export function isOciProfile(text: string): boolean {
  const document = parseJson(text);
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

/** True for seccompiler JSON: every top-level value is a filter with `filter` and `default_action`. */
export function isFirecrackerFile(text: string): boolean {
  const document = parseJson(text);
  if (!isObject(document)) return false;
  const filters = Object.values(document);
  return (
    filters.length > 0 &&
    filters.every((filter) => isObject(filter) && 'filter' in filter && 'default_action' in filter)
  );
}

/** True for a systemd unit or drop-in that sets a SystemCall* option in an exec section. */
export function isSystemdUnit(path: string, text: string): boolean {
  const unitLike =
    /\.(service|socket|mount|swap|conf)$/.test(path) || /^\s*\[(Service|Socket|Mount|Swap)\]/m.test(text);
  return unitLike && /^\s*SystemCall(Filter|Log|Architectures|ErrorNumber)\s*=/m.test(text);
}

/** One thread's filter: `options.thread`, else the first (the others are named in a warning). */
function loadFirecracker(
  text: string,
  path: string,
  options: LoadOptions,
): { policy: ResolvedPolicy; warnings: readonly string[] } {
  const { threads, warnings } = importFirecracker(
    text,
    path,
    options.arch === undefined ? {} : { arch: options.arch },
  );
  const chosen =
    options.thread === undefined ? threads[0] : threads.find((entry) => entry.thread === options.thread);
  const names = threads.map((entry) => entry.thread);
  if (chosen === undefined) {
    throw policyFailure(
      `${path} has no filter for thread '${options.thread ?? ''}'`,
      undefined,
      `threads: ${names.join(', ')}`,
    );
  }
  const others = names.filter((name) => name !== chosen.thread);
  const note =
    options.thread === undefined && others.length > 0
      ? [
          `${path}: loaded thread '${chosen.thread}'; the file also has ${others.join(', ')} (choose with --thread)`,
        ]
      : [];
  return { policy: chosen.policy, warnings: [...warnings, ...note] };
}

/** Other YAML files beside an SPO profile, which may hold its base profiles. */
async function siblingSpoFiles(path: string): Promise<SpoSourceText[]> {
  const directory = dirname(path);
  const names = (await readdir(directory)).filter(
    (name) => /\.ya?ml$/.test(name) && join(directory, name) !== join(directory, basename(path)),
  );
  const sources = await Promise.all(
    names.sort().map(async (name) => ({
      file: join(directory, name),
      text: await readFile(join(directory, name), 'utf8'),
    })),
  );
  return sources.filter((source) => isSpoProfileText(source.text));
}

/** A unit's drop-ins (UNIT.d/*.conf beside it), in the lexical order systemd applies them. */
async function dropIns(path: string): Promise<SystemdUnitText[]> {
  if (extname(path) === '.conf') return [];
  const directory = `${path}.d`;
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    // No drop-in directory is the usual case; anything else (permissions) must not be skipped silently.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const confs = names.filter((name) => name.endsWith('.conf')).sort();
  return Promise.all(
    confs.map(async (name) => ({
      file: join(directory, name),
      text: await readFile(join(directory, name), 'utf8'),
    })),
  );
}
