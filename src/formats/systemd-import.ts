/**
 * Importing the seccomp settings of systemd units (a unit file and its drop-ins, applied in order) into
 * the policy IR, with the semantics of systemd's config_parse_syscall_filter and exec setup
 * (src/core/load-fragment.c, src/shared/seccomp-util.c; checked against systemd-analyze verify 252):
 *
 * - SystemCallFilter=: the first non-empty assignment decides the mode — allow list, or deny list when it
 *   starts with `~`. An allow list implicitly contains @default. Later assignments of the same sense add
 *   names, of the other sense remove them. An empty assignment resets. Unknown names and groups are
 *   ignored (with a warning, as systemd logs). `name:ERRNO` / `name:kill` is for deny lists only; in an
 *   allow list systemd ignores the whole word.
 * - Calls the filter does not allow get SystemCallErrorNumber= (errno) or, unset / `kill`, kill_process.
 *   Deny-listed calls get their own `:ERRNO`, else that same default denial.
 * - SystemCallLog= is a second, stacked filter with action log; the kernel applies the stricter result.
 * - SystemCallArchitectures= restricts the ABIs (libseccomp always keeps the native one; foreign ABIs get
 *   its default kill_thread). Unset, the filter covers every ABI of the host kernel (x86_64: also i386, x32).
 * - Syscall numbers no table names get the default action, as libseccomp gives them.
 */
import { basename, extname } from 'node:path';
import { actionsEqual, actionToRet, type Action } from '../policy/action.js';
import type { PolicyRule, ResolvedPolicy, SourceLocation } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { hostArch, isKnownSyscall, kernelAbis, type Arch } from '../syscalls/arch.js';
import { expandGroup } from '../syscalls/groups.js';
import { ALL_SYSCALL_NAMES } from '../syscalls/tables.generated.js';
import {
  lookupSystemdArch,
  parseSystemdDenial,
  stricter,
  SYSTEMD_ARCH_NAME,
  type SystemdDenial,
} from './systemd-names.js';
import { parseUnitFile, unitWords, type UnitAssignment } from './systemd-unit.js';

export interface SystemdImportOptions {
  /** The host the unit runs on (for `native` and the default ABIs; default: this machine's). */
  readonly arch?: Arch;
  /** How @groups expand (default: sysfence's table, systemd main in 2025); e.g. another systemd version's. */
  readonly groups?: GroupExpander;
}

/** The syscall names of an @group, or undefined for a group that version does not have. */
export type GroupExpander = (group: string) => readonly string[] | undefined;

export interface SystemdUnitText {
  readonly text: string;
  readonly file: string;
}

export interface SystemdImportResult {
  readonly policy: ResolvedPolicy;
  readonly warnings: readonly string[];
}

/** libseccomp's default bad-arch action; systemd's SystemCallArchitectures= filter keeps it. */
export const SYSTEMD_BAD_ARCH_ACTION: Action = { kind: 'kill_thread' };

/** The sections whose units run processes (systemd.exec(5)). */
const EXEC_SECTIONS: ReadonlySet<string> = new Set(['Service', 'Socket', 'Mount', 'Swap']);
const SECCOMP_KEYS = [
  'SystemCallFilter',
  'SystemCallErrorNumber',
  'SystemCallArchitectures',
  'SystemCallLog',
];

interface NamedEntry {
  readonly denial?: SystemdDenial;
  readonly location: SourceLocation;
}

/** A SystemCallFilter= or SystemCallLog= set: its mode and its names. */
interface SyscallSet {
  readonly allowList: boolean;
  readonly names: Map<string, NamedEntry>;
}

interface UnitState {
  filter?: SyscallSet;
  log?: SyscallSet;
  errorNumber?: { readonly denial: SystemdDenial; readonly location: SourceLocation };
  architectures?: Set<Arch>;
  readonly warnings: string[];
  readonly native: Arch;
  readonly groups: GroupExpander;
}

/** Imports the seccomp settings of a unit and its drop-ins (in the order systemd applies them). */
export function importSystemd(
  files: readonly SystemdUnitText[],
  options: SystemdImportOptions = {},
): SystemdImportResult {
  const state: UnitState = {
    warnings: [],
    native: options.arch ?? hostArch(),
    groups: options.groups ?? expandGroup,
  };
  let seen = false;
  for (const { text, file } of files) {
    for (const assignment of parseUnitFile(text, file)) {
      if (!SECCOMP_KEYS.includes(assignment.key)) continue;
      if (!EXEC_SECTIONS.has(assignment.section)) {
        warn(
          state,
          assignment.location,
          `${assignment.key}= in [${assignment.section}] is ignored (only [Service], [Socket], [Mount] and [Swap] run processes)`,
        );
        continue;
      }
      seen = true;
      apply(state, assignment);
    }
  }
  const first = files[0];
  if (!seen || first === undefined)
    throw policyFailure(
      'no SystemCallFilter=, SystemCallLog= or SystemCallArchitectures= to import',
      first === undefined ? undefined : { file: first.file, line: 1, column: 1 },
    );
  return { policy: toPolicy(state, first.file), warnings: state.warnings };
}

function warn(state: UnitState, at: SourceLocation, message: string): void {
  state.warnings.push(`${at.file}:${at.line}: ${message}`);
}

function apply(state: UnitState, assignment: UnitAssignment): void {
  switch (assignment.key) {
    case 'SystemCallFilter':
      state.filter = applySetAssignment(state, state.filter, assignment, true);
      return;
    case 'SystemCallLog':
      state.log = applySetAssignment(state, state.log, assignment, false);
      return;
    case 'SystemCallErrorNumber':
      applyErrorNumber(state, assignment);
      return;
    case 'SystemCallArchitectures':
      applyArchitectures(state, assignment);
  }
}

/** One SystemCallFilter= / SystemCallLog= line on top of what came before; `undefined` = reset. */
function applySetAssignment(
  state: UnitState,
  current: SyscallSet | undefined,
  assignment: UnitAssignment,
  isFilter: boolean,
): SyscallSet | undefined {
  if (assignment.value === '') return undefined;
  const invert = assignment.value.startsWith('~');
  const words = unitWords(invert ? assignment.value.slice(1) : assignment.value);
  const set = current ?? { allowList: !invert, names: new Map<string, NamedEntry>() };
  if (current === undefined && isFilter && set.allowList) {
    // systemd adds @default to every allow list so the service can still exec and exit.
    for (const name of state.groups('@default') ?? []) set.names.set(name, { location: assignment.location });
  }
  const adding = invert !== set.allowList;
  for (const word of words) applyWord(state, set, word, adding, isFilter, assignment.location);
  return set;
}

function applyWord(
  state: UnitState,
  set: SyscallSet,
  word: string,
  adding: boolean,
  isFilter: boolean,
  location: SourceLocation,
): void {
  const colon = word.indexOf(':');
  const name = colon < 0 ? word : word.slice(0, colon);
  let denial: SystemdDenial | undefined;
  if (colon >= 0) {
    denial = isFilter ? parseSystemdDenial(word.slice(colon + 1)) : undefined;
    if (denial === undefined) {
      warn(state, location, `invalid errno in '${word}', ignored (as systemd does)`);
      return;
    }
    if (set.allowList && adding) {
      warn(
        state,
        location,
        `allow-listed system calls cannot take an error number; '${word}' is ignored (as systemd does)`,
      );
      return;
    }
  }
  const names = syscallNames(state, name, location);
  for (const syscall of names) {
    if (adding) set.names.set(syscall, { ...(denial === undefined ? {} : { denial }), location });
    else set.names.delete(syscall);
  }
}

/** The syscalls a word names (a group expanded); an unknown name or group is ignored with a warning. */
function syscallNames(state: UnitState, name: string, location: SourceLocation): readonly string[] {
  if (name.startsWith('@')) {
    const members = state.groups(name);
    if (members === undefined)
      warn(state, location, `unknown system call group '${name}' is ignored (as systemd does)`);
    return members ?? [];
  }
  if (!isKnownSyscall(name)) {
    warn(state, location, `unknown system call '${name}' is ignored (as systemd does)`);
    return [];
  }
  return [name];
}

function applyErrorNumber(state: UnitState, assignment: UnitAssignment): void {
  if (assignment.value === '') {
    delete state.errorNumber;
    return;
  }
  const denial = parseSystemdDenial(assignment.value);
  if (denial === undefined || (denial.kind === 'errno' && denial.errno === 0)) {
    throw policyFailure(
      `SystemCallErrorNumber=${assignment.value} is not an errno 1..4095, an errno name or 'kill'`,
      assignment.location,
    );
  }
  state.errorNumber = { denial, location: assignment.location };
}

function applyArchitectures(state: UnitState, assignment: UnitAssignment): void {
  if (assignment.value === '') {
    delete state.architectures;
    return;
  }
  const arches = state.architectures ?? new Set<Arch>();
  for (const word of unitWords(assignment.value)) {
    if (word === 'native') {
      arches.add(state.native);
      continue;
    }
    const found = lookupSystemdArch(word);
    if (found.kind === 'unknown') {
      throw policyFailure(
        `unknown architecture '${word}' in SystemCallArchitectures=`,
        assignment.location,
        `known: native, ${Object.values(SYSTEMD_ARCH_NAME).join(', ')}`,
      );
    }
    if (found.kind === 'unsupported') {
      warn(
        state,
        assignment.location,
        `architecture ${word} is not supported by sysfence and is left out (its processes get the bad-arch action)`,
      );
    } else {
      arches.add(found.arch);
    }
  }
  state.architectures = arches;
}

function denialAction(denial: SystemdDenial): Action {
  return denial.kind === 'kill' ? { kind: 'kill_process' } : { kind: 'errno', errno: denial.errno };
}

/** What the filter does to calls it does not allow, and to deny-listed calls without their own errno. */
function defaultDenial(state: UnitState): Action {
  return state.errorNumber === undefined ? { kind: 'kill_process' } : denialAction(state.errorNumber.denial);
}

/** SystemCallFilter='s decision for a name, and for everything unlisted. */
function filterAction(state: UnitState, name: string | undefined): Action {
  const filter = state.filter;
  if (filter === undefined) return { kind: 'allow' };
  const entry = name === undefined ? undefined : filter.names.get(name);
  if (filter.allowList) return entry === undefined ? defaultDenial(state) : { kind: 'allow' };
  if (entry === undefined) return { kind: 'allow' };
  return entry.denial === undefined ? defaultDenial(state) : denialAction(entry.denial);
}

/** SystemCallLog='s decision: log for logged calls, else allow. */
function logAction(state: UnitState, name: string | undefined): Action {
  const log = state.log;
  if (log === undefined) return { kind: 'allow' };
  const listed = name !== undefined && log.names.has(name);
  return listed === log.allowList ? { kind: 'log' } : { kind: 'allow' };
}

/** The ABIs the filters cover: the listed ones plus native, or every ABI of the host kernel. */
function architecturesOf(state: UnitState): readonly Arch[] {
  if (state.architectures === undefined) return kernelAbis(state.native);
  return [state.native, ...[...state.architectures].filter((arch) => arch !== state.native)];
}

/**
 * Both stacked filters decided per syscall name (the kernel applies the stricter result); names whose
 * outcome differs from the default become rules, one per (action, line that named them).
 */
function toPolicy(state: UnitState, file: string): ResolvedPolicy {
  const name = basename(file, extname(file));
  const defaultAction = stricter(filterAction(state, undefined), logAction(state, undefined));
  const groups = new Map<string, { action: Action; names: string[]; location: SourceLocation }>();
  for (const syscall of ALL_SYSCALL_NAMES) {
    const action = stricter(filterAction(state, syscall), logAction(state, syscall));
    if (actionsEqual(action, defaultAction)) continue;
    const location = state.filter?.names.get(syscall)?.location ??
      state.log?.names.get(syscall)?.location ?? { file, line: 1, column: 1 };
    const key = `${actionToRet(action)}@${location.file}:${location.line}`;
    const group = groups.get(key) ?? { action, names: [], location };
    group.names.push(syscall);
    groups.set(key, group);
  }
  const rules: PolicyRule[] = [...groups.values()].map((group) => ({
    syscalls: group.names,
    selectors: group.names,
    action: group.action,
    conditions: [],
    reason: `imported from ${group.location.file}:${group.location.line}`,
    tier: 'required',
    layer: name,
    location: group.location,
  }));
  return {
    name,
    architectures: architecturesOf(state),
    defaultAction,
    unknownAction: defaultAction,
    badArchAction: SYSTEMD_BAD_ARCH_ACTION,
    rules,
    layers: [{ name, file }],
  };
}
