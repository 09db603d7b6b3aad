/**
 * Importing OCI runtime-spec seccomp profiles (`linux.seccomp`, alone or inside a config.json) and
 * Docker's profile format (archMap, includes/excludes by caps/arches/minKernel) into the policy IR, with
 * the decisions runc + libseccomp would make on the chosen native architecture:
 *
 * - Docker (moby profiles/seccomp setupSeccomp): `architectures` = the archMap entry of the native arch
 *   plus its subArchitectures; an entry is dropped when excludes.arches names the native arch, any
 *   excludes.caps is in the bounding set, or the kernel is >= excludes.minKernel; and unless every
 *   includes condition holds (native arch listed, all caps present, kernel >= minKernel).
 * - runc (libcontainer/seccomp seccomp_linux.go): entries whose action equals the default action are
 *   skipped; names libseccomp cannot resolve are skipped; if an argument index appears twice in an entry
 *   every condition becomes a rule of its own (OR), else all conditions are ANDed in one rule.
 * - libseccomp (2.5, verified by exporting its BPF and running it): the native arch is always in the
 *   filter; foreign arches get SCMP_ACT_KILL (= kill_thread), which runc never changes; masked_eq compares
 *   (arg & mask) == (datum & mask); on 32-bit ABIs only the low 32 bits of a value are compared; rules of
 *   one syscall are merged, not tried in order (see resolveMerging).
 */
import { basename, extname } from 'node:path';
import { release } from 'node:os';
import type { Node } from 'yaml';
import { actionToRet, formatAction, MAX_ERRNO, type Action } from '../policy/action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy, SourceLocation } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import {
  ARCH_BITS,
  hostArch,
  isKnownSyscall,
  SCMP_ARCH_NAME,
  syscallEntries,
  syscallNumber,
  type Arch,
} from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { DOCKER_DEFAULT_CAPS } from './docker-caps.js';
import { JsonSource, warnAt, warnUnknownKeys, type JsonMember } from './oci-json.js';
import {
  actionUsesErrnoRet,
  dockerNativeName,
  knownOciArchNames,
  lookupOciArch,
  OCI_ACTIONS,
  OCI_OPS,
  ociAction,
} from './oci-names.js';
import { conditionsDisjoint, sameConditions } from './oci-overlap.js';

export interface OciImportOptions {
  /** The native architecture runc would run on (default: this machine's). */
  readonly arch?: Arch;
  /** The container's bounding capability set (default: Docker's default set). */
  readonly caps?: readonly string[];
  /** Kernel release compared with minKernel, "X.Y[...]" (default: this machine's os.release()). */
  readonly kernelVersion?: string;
  /** For syscall numbers sysfence's table does not know (default: the profile's default action). */
  readonly unknownAction?: Action;
}

export interface OciImportResult {
  readonly policy: ResolvedPolicy;
  /** What the import could not carry exactly or ignored, one sentence each, naming file:line:col. */
  readonly warnings: readonly string[];
}

/** libseccomp's default SCMP_FLTATR_ACT_BADARCH (SCMP_ACT_KILL); runc does not set another. */
export const RUNC_BAD_ARCH_ACTION: Action = { kind: 'kill_thread' };

const TOP_KEYS = [
  'defaultAction',
  'defaultErrnoRet',
  'architectures',
  'archMap',
  'flags',
  'listenerPath',
  'listenerMetadata',
  'syscalls',
];
const ENTRY_KEYS = ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes'];
const FILTER_KEYS = ['caps', 'arches', 'minKernel'];
const ARG_KEYS = ['index', 'value', 'valueTwo', 'op'];
const MAX_ARG_INDEX = 5n;
const LOW_32 = 0xffffffffn;

interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

/** Everything the Docker filters and runc decisions depend on besides the profile itself. */
interface ImportContext {
  readonly native: Arch;
  readonly caps: ReadonlySet<string>;
  readonly kernel: KernelVersion;
  readonly warnings: string[];
  readonly source: JsonSource;
}

/** Go's encoding/json ignores unknown members, so runc and Docker do too: said in each unknown-key warning. */
const IGNORED_BY_RUNC = 'runc and Docker ignore it too';

/** One syscalls[] entry that survived Docker's includes/excludes. */
interface OciEntry {
  readonly index: number;
  readonly location: SourceLocation;
  readonly names: readonly string[];
  readonly action: Action;
  readonly conditions: readonly ArgCondition[];
  readonly splitConditions: boolean;
  readonly comment?: string;
}

/** A rule as runc hands it to libseccomp (one per entry, or one per condition after runc's split). */
interface CandidateRule {
  readonly entry: OciEntry;
  readonly conditions: readonly ArgCondition[];
  names: string[];
}

/** Imports an OCI / Docker seccomp profile; throws a located PolicyError for anything runc would reject. */
export function importOci(text: string, file: string, options: OciImportOptions = {}): OciImportResult {
  const source = JsonSource.parse(text, file);
  const context: ImportContext = {
    native: options.arch ?? hostArch(),
    caps: new Set(options.caps ?? DOCKER_DEFAULT_CAPS),
    kernel: parseKernelRelease(options.kernelVersion ?? release()),
    warnings: [],
    source,
  };
  const profile = source.members(seccompObject(source), 'the seccomp profile');
  warnUnknownKeys(context, profile, TOP_KEYS, 'the seccomp profile', IGNORED_BY_RUNC);
  const defaultAction = readDefaultAction(context, profile);
  const architectures = readArchitectures(context, profile);
  const entries = readEntries(context, profile);
  const candidates = runcRules(context, entries, defaultAction);
  const rules = resolveMerging(candidates, file);
  warnAboutEnosysStub(context, entries, architectures, defaultAction);
  warnAbout32BitTruncation(context, rules, architectures);
  const name = basename(file, extname(file));
  const policy: ResolvedPolicy = {
    name,
    architectures,
    defaultAction,
    unknownAction: options.unknownAction ?? defaultAction,
    badArchAction: RUNC_BAD_ARCH_ACTION,
    rules: rules.map((rule) => ({ ...rule, layer: name })),
    layers: [{ name, file }],
  };
  return { policy, warnings: context.warnings };
}

/** The `linux.seccomp` object of a config.json, or the document itself when it is a bare profile. */
function seccompObject(source: JsonSource): Node {
  const top = source.members(source.root, 'the document');
  const linux = top.get('linux');
  if (linux === undefined) return source.root;
  const seccomp = source.members(linux.value, 'linux').get('seccomp');
  if (seccomp === undefined)
    throw policyFailure('config.json has no linux.seccomp', source.location(linux.key));
  return seccomp.value;
}

/** "X.Y..." as moby reads uname's release (fmt.Sscanf "%d.%d"): the rest is ignored. */
function parseKernelRelease(text: string): KernelVersion {
  const match = /^(\d+)\.(\d+)/.exec(text.trim());
  if (match === null) throw policyFailure(`kernel version '${text}' is not of the form X.Y`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

function readDefaultAction(context: ImportContext, profile: Map<string, JsonMember>): Action {
  const member = profile.get('defaultAction');
  if (member === undefined) {
    throw policyFailure(
      'the seccomp profile has no defaultAction',
      context.source.location(context.source.root),
    );
  }
  const errnoRet = readErrnoRet(context, profile.get('defaultErrnoRet'));
  const action = readAction(context, member.value, 'defaultAction', errnoRet);
  if (action.kind === 'notify') {
    throw policyFailure(
      'SCMP_ACT_NOTIFY cannot be the default action (runc refuses it)',
      context.source.location(member.value),
    );
  }
  return action;
}

function readErrnoRet(context: ImportContext, member: JsonMember | undefined): number | undefined {
  if (member === undefined || context.source.isNull(member.value)) return undefined;
  // runc would truncate larger values to 16 bits and the kernel then clamps to MAX_ERRNO: refuse instead.
  return Number(context.source.unsigned(member.value, 'errnoRet', BigInt(MAX_ERRNO)));
}

function readAction(context: ImportContext, node: Node, what: string, errnoRet: number | undefined): Action {
  const name = context.source.string(node, what);
  const action = ociAction(name, errnoRet);
  if (action === undefined) {
    throw policyFailure(
      `unknown action '${name}' in ${what}`,
      context.source.location(node),
      `valid actions: ${OCI_ACTIONS.join(', ')}`,
    );
  }
  if (errnoRet !== undefined && !actionUsesErrnoRet(name)) {
    warnAt(
      context,
      node,
      `errnoRet is ignored with ${name} (runc only uses it for SCMP_ACT_ERRNO and SCMP_ACT_TRACE)`,
    );
  }
  return action;
}

/** The ABIs the filter covers: libseccomp always includes the native one, then the listed ones. */
function readArchitectures(context: ImportContext, profile: Map<string, JsonMember>): readonly Arch[] {
  const listed = profile.get('architectures');
  const archMap = profile.get('archMap');
  const source = context.source;
  const hasList = listed !== undefined && source.items(listed.value, 'architectures').length > 0;
  const hasMap = archMap !== undefined && source.items(archMap.value, 'archMap').length > 0;
  if (hasList && hasMap) {
    throw policyFailure(
      "both 'architectures' and 'archMap' are given; Docker accepts only one",
      source.location(archMap.key),
    );
  }
  const names =
    hasMap && archMap !== undefined ? archMapNames(context, archMap.value) : listedNames(context, listed);
  const arches: Arch[] = [context.native];
  for (const { name, node } of names) {
    const found = lookupOciArch(name);
    if (found.kind === 'unknown') {
      throw policyFailure(
        `unknown architecture '${name}'`,
        source.location(node),
        `known: ${knownOciArchNames().join(', ')}`,
      );
    }
    if (found.kind === 'unsupported') {
      warnAt(
        context,
        node,
        `architecture ${name} is not supported by sysfence and is left out (its processes get the bad-arch action)`,
      );
    } else if (!arches.includes(found.arch)) {
      arches.push(found.arch);
    }
  }
  return arches;
}

interface NamedNode {
  readonly name: string;
  readonly node: Node;
}

function listedNames(context: ImportContext, listed: JsonMember | undefined): readonly NamedNode[] {
  if (listed === undefined) return [];
  const items = context.source.items(listed.value, 'architectures');
  return items.map((node) => ({ name: context.source.string(node, 'each architecture'), node }));
}

/** Docker: the archMap entry whose architecture is the native one, then its subArchitectures. */
function archMapNames(context: ImportContext, node: Node): readonly NamedNode[] {
  const source = context.source;
  const nativeName = SCMP_ARCH_NAME[context.native];
  for (const item of source.items(node, 'archMap')) {
    const members = source.members(item, 'an archMap entry');
    const architecture = members.get('architecture');
    if (architecture === undefined || source.string(architecture.value, 'architecture') !== nativeName)
      continue;
    const subs = members.get('subArchitectures');
    const subNodes = subs === undefined ? [] : source.items(subs.value, 'subArchitectures');
    return [architecture.value, ...subNodes].map((sub) => ({
      name: source.string(sub, 'an architecture'),
      node: sub,
    }));
  }
  return [];
}

/** The syscalls[] entries Docker keeps for this arch, capability set and kernel, parsed and validated. */
function readEntries(context: ImportContext, profile: Map<string, JsonMember>): readonly OciEntry[] {
  const member = profile.get('syscalls');
  if (member === undefined) return [];
  const entries: OciEntry[] = [];
  context.source.items(member.value, 'syscalls').forEach((node, index) => {
    const entry = readEntry(context, node, index);
    if (entry !== undefined) entries.push(entry);
  });
  return entries;
}

function readEntry(context: ImportContext, node: Node, index: number): OciEntry | undefined {
  const source = context.source;
  const what = `syscalls[${index}]`;
  const members = source.members(node, what);
  warnUnknownKeys(context, members, ENTRY_KEYS, what, IGNORED_BY_RUNC);
  // Parse the filters first: moby rejects a malformed minKernel even in an entry it then drops.
  const includes = readFilter(context, members.get('includes'), `${what}.includes`);
  const excludes = readFilter(context, members.get('excludes'), `${what}.excludes`);
  const names = readNames(context, members, node, what);
  const actionMember = members.get('action');
  if (actionMember === undefined) throw policyFailure(`${what} has no action`, source.location(node));
  const action = readAction(
    context,
    actionMember.value,
    `${what}.action`,
    readErrnoRet(context, members.get('errnoRet')),
  );
  const args = readArgs(context, members.get('args'), what);
  const comment = members.get('comment');
  if (!dockerKeeps(context, includes, excludes)) return undefined;
  if (action.kind === 'notify' && names.includes('write')) {
    throw policyFailure(
      'SCMP_ACT_NOTIFY cannot be used for write (runc refuses it)',
      source.location(actionMember.value),
    );
  }
  const indexes = args.map((condition) => condition.index);
  return {
    index,
    location: source.location(node),
    names,
    action,
    conditions: args,
    splitConditions: new Set(indexes).size !== indexes.length,
    ...(comment === undefined ? {} : { comment: source.string(comment.value, `${what}.comment`) }),
  };
}

function readNames(
  context: ImportContext,
  members: Map<string, JsonMember>,
  node: Node,
  what: string,
): readonly string[] {
  const source = context.source;
  const single = members.get('name');
  const list = members.get('names');
  if (single !== undefined && list !== undefined) {
    throw policyFailure(`${what} has both 'name' and 'names'; use 'names'`, source.location(single.key));
  }
  const nodes =
    single !== undefined
      ? [single.value]
      : list === undefined
        ? []
        : source.items(list.value, `${what}.names`);
  if (nodes.length === 0) warnAt(context, node, `${what} names no syscall and has no effect`);
  return nodes.map((item) => {
    const name = source.string(item, `each name in ${what}`);
    if (name === '')
      throw policyFailure('empty string is not a valid syscall (runc refuses it)', source.location(item));
    return name;
  });
}

interface DockerFilter {
  readonly caps: readonly string[];
  readonly arches: readonly string[];
  readonly minKernel?: KernelVersion;
}

function readFilter(
  context: ImportContext,
  member: JsonMember | undefined,
  what: string,
): DockerFilter | undefined {
  if (member === undefined || context.source.isNull(member.value)) return undefined;
  const source = context.source;
  const members = source.members(member.value, what);
  warnUnknownKeys(context, members, FILTER_KEYS, what, IGNORED_BY_RUNC);
  const caps = members.get('caps');
  const arches = members.get('arches');
  const minKernel = members.get('minKernel');
  const kernel = minKernel === undefined ? undefined : parseMinKernel(context, minKernel.value);
  return {
    caps: caps === undefined ? [] : source.strings(caps.value, `${what}.caps`),
    arches: arches === undefined ? [] : source.strings(arches.value, `${what}.arches`),
    ...(kernel === undefined ? {} : { minKernel: kernel }),
  };
}

/** moby KernelVersion.UnmarshalJSON: "" means none; else exactly "<kernel>.<major>", each 0..255, not 0.0. */
function parseMinKernel(context: ImportContext, node: Node): KernelVersion | undefined {
  const text = context.source.string(node, 'minKernel');
  if (text === '') return undefined;
  const match = /^(\d{1,3})\.(\d{1,3})$/.exec(text);
  const major = Number(match?.[1]);
  const minor = Number(match?.[2]);
  if (match === null || major > 255 || minor > 255 || (major === 0 && minor === 0)) {
    throw policyFailure(
      `invalid minKernel '${text}'`,
      context.source.location(node),
      'write "<kernel>.<major>", e.g. "5.8"',
    );
  }
  return { major, minor };
}

function kernelAtLeast(kernel: KernelVersion, wanted: KernelVersion): boolean {
  return kernel.major > wanted.major || (kernel.major === wanted.major && kernel.minor >= wanted.minor);
}

/** moby setupSeccomp's includes/excludes test for one entry. */
function dockerKeeps(
  context: ImportContext,
  includes: DockerFilter | undefined,
  excludes: DockerFilter | undefined,
): boolean {
  const native = dockerNativeName(context.native);
  if (native === undefined && (includes?.arches.length ?? 0) + (excludes?.arches.length ?? 0) > 0) {
    throw policyFailure(
      `Docker cannot run with ${context.native} as its native architecture; choose another --arch`,
    );
  }
  if (excludes !== undefined) {
    if (native !== undefined && excludes.arches.includes(native)) return false;
    if (excludes.caps.some((cap) => context.caps.has(cap))) return false;
    if (excludes.minKernel !== undefined && kernelAtLeast(context.kernel, excludes.minKernel)) return false;
  }
  if (includes !== undefined) {
    if (includes.arches.length > 0 && (native === undefined || !includes.arches.includes(native)))
      return false;
    if (!includes.caps.every((cap) => context.caps.has(cap))) return false;
    if (includes.minKernel !== undefined && !kernelAtLeast(context.kernel, includes.minKernel)) return false;
  }
  return true;
}

function readArgs(
  context: ImportContext,
  member: JsonMember | undefined,
  what: string,
): readonly ArgCondition[] {
  if (member === undefined) return [];
  return context.source
    .items(member.value, `${what}.args`)
    .map((node, i) => readArg(context, node, `${what}.args[${i}]`));
}

/** One {index, value, valueTwo, op}; absent numbers are 0, as Go decodes them (with a warning). */
function readArg(context: ImportContext, node: Node, what: string): ArgCondition {
  const source = context.source;
  const members = source.members(node, what);
  warnUnknownKeys(context, members, ARG_KEYS, what, IGNORED_BY_RUNC);
  const number = (key: string, max?: bigint): bigint => {
    const member = members.get(key);
    if (member !== undefined) return source.unsigned(member.value, `${what}.${key}`, max);
    if (key !== 'valueTwo') warnAt(context, node, `${what} has no '${key}'; runc reads it as 0`);
    return 0n;
  };
  const index = number('index', MAX_ARG_INDEX);
  const value = number('value');
  const valueTwo = number('valueTwo');
  const opMember = members.get('op');
  if (opMember === undefined)
    throw policyFailure(
      `${what} has no op`,
      source.location(node),
      `valid ops: ${Object.keys(OCI_OPS).join(', ')}`,
    );
  const opName = source.string(opMember.value, `${what}.op`);
  const op = OCI_OPS[opName];
  if (op === undefined) {
    throw policyFailure(
      `unknown op '${opName}' in ${what}`,
      source.location(opMember.value),
      `valid ops: ${Object.keys(OCI_OPS).join(', ')}`,
    );
  }
  const conditionIndex = Number(index) as ArgCondition['index'];
  if (op !== 'masked_eq') {
    if (valueTwo !== 0n) warnAt(context, node, `${what}: valueTwo is ignored with ${opName}`);
    return { index: conditionIndex, op, value, width: 64 };
  }
  // libseccomp: value is the mask, valueTwo the datum, and it compares (arg & mask) == (datum & mask).
  if ((valueTwo & ~value) !== 0n) {
    warnAt(context, node, `${what}: valueTwo has bits outside the mask (value); libseccomp ignores them`);
  }
  return { index: conditionIndex, op, mask: value, value: valueTwo & value, width: 64 };
}

/**
 * runc's matchCall for every entry and name: skip entries whose action is the default one (libseccomp
 * would refuse them), skip names libseccomp cannot resolve, split the conditions of an entry that
 * compares one argument twice into one rule each (OR), else AND them in one rule.
 */
function runcRules(
  context: ImportContext,
  entries: readonly OciEntry[],
  defaultAction: Action,
): CandidateRule[] {
  const candidates: CandidateRule[] = [];
  const warnedNames = new Set<string>();
  for (const entry of entries) {
    if (actionToRet(entry.action) === actionToRet(defaultAction)) continue;
    const names = entry.names.filter((name) => {
      if (isKnownSyscall(name)) return true;
      if (!warnedNames.has(name)) {
        warnedNames.add(name);
        const at = entry.location;
        context.warnings.push(
          `${at.file}:${at.line}:${at.column}: unknown syscall '${name}' in syscalls[${entry.index}] is ignored (runc ignores names libseccomp cannot resolve)`,
        );
      }
      return false;
    });
    if (names.length === 0) continue;
    const groups = entry.splitConditions
      ? entry.conditions.map((condition) => [condition])
      : [entry.conditions];
    for (const conditions of groups) candidates.push({ entry, conditions, names: [...names] });
  }
  return candidates;
}

/**
 * libseccomp 2.5 merges all rules of one syscall into a single tree; found by exporting its BPF for
 * pairs of rules in both orders and running it:
 * 1. An unconditional rule decides the syscall for every argument, whatever came before or after it;
 *    of several unconditional rules the first one added wins.
 * 2. Conditional rules with the same action: their union (as first-match gives).
 * 3. Conditional rules with different actions and disjoint conditions: each decides its own calls.
 * 4. Different actions on overlapping conditions: the outcome follows libseccomp's tree layout (neither
 *    first- nor last-match: the comparison on the higher argument, or the later-sorted operator, wins),
 *    and identical conditions make seccomp_rule_add fail with EEXIST, which makes runc refuse the profile.
 * So: case 1 keeps only the first unconditional rule for that syscall, cases 2-3 keep file order (the
 * first-match IR decides the same), and case 4 is an error rather than a guess.
 */
function resolveMerging(candidates: readonly CandidateRule[], file: string): PolicyRule[] {
  const byName = new Map<string, CandidateRule[]>();
  for (const candidate of candidates) {
    for (const name of candidate.names) byName.set(name, [...(byName.get(name) ?? []), candidate]);
  }
  for (const [name, rules] of byName) {
    const unconditional = rules.find((rule) => rule.conditions.length === 0);
    if (unconditional !== undefined) {
      for (const rule of rules) if (rule !== unconditional) rule.names = rule.names.filter((n) => n !== name);
    } else {
      checkNoConflicts(name, rules);
    }
  }
  return candidates
    .filter((candidate) => candidate.names.length > 0)
    .map((candidate) => toPolicyRule(candidate, file));
}

function checkNoConflicts(name: string, rules: readonly CandidateRule[]): void {
  rules.forEach((first, i) => {
    for (const second of rules.slice(i + 1)) {
      if (actionToRet(first.entry.action) === actionToRet(second.entry.action)) continue;
      if (conditionsDisjoint(first.conditions, second.conditions)) continue;
      const identical = sameConditions(first.conditions, second.conditions);
      const a = first.entry;
      const b = second.entry;
      throw policyFailure(
        `syscalls[${a.index}] (${formatAction(a.action, errnoName)}) and syscalls[${b.index}] (${formatAction(b.action, errnoName)}, line ${b.location.line}) ` +
          `give '${name}' different actions for arguments both match; ` +
          (identical
            ? 'libseccomp rejects the second rule (EEXIST), so runc refuses this profile'
            : 'libseccomp merges them into one tree whose outcome is neither first- nor last-match'),
        a.location,
        'make the conditions disjoint, or give the overlapping entries one action',
      );
    }
  });
}

function toPolicyRule(candidate: CandidateRule, file: string): PolicyRule {
  const entry = candidate.entry;
  return {
    syscalls: candidate.names,
    selectors: candidate.names,
    action: entry.action,
    conditions: candidate.conditions,
    reason: entry.comment ?? `imported from ${file} syscalls[${entry.index}]`,
    tier: 'required',
    layer: '',
    location: entry.location,
  };
}

/** runc's patchbpf isAllowAction: no -ENOSYS stub is generated for these default actions. */
function stubApplies(defaultAction: Action): boolean {
  return !['allow', 'log', 'trace'].includes(defaultAction.kind);
}

/**
 * runc (patchbpf) prepends a stub returning ENOSYS for every syscall number above the highest one the
 * profile names on that ABI (so new syscalls fail like on an old kernel). The IR cannot say "above N"
 * per ABI; sysfence gives known syscalls above N the default action and unknown numbers unknownAction.
 * Warn with the syscalls whose outcome differs.
 */
function warnAboutEnosysStub(
  context: ImportContext,
  entries: readonly OciEntry[],
  arches: readonly Arch[],
  defaultAction: Action,
): void {
  if (!stubApplies(defaultAction)) return;
  const named = new Set(entries.flatMap((entry) => entry.names));
  const parts: string[] = [];
  for (const arch of arches) {
    const numbers = [...named].map((name) => syscallNumber(arch, name) ?? 0);
    const highest = Math.max(0, ...numbers);
    if (highest === 0) continue;
    const above = syscallEntries(arch)
      .filter(([name, nr]) => nr > highest && !named.has(name))
      .map(([name]) => name);
    if (above.length > 0) parts.push(`${arch} above ${highest}: ${above.join(', ')}`);
  }
  if (parts.length === 0) return;
  context.warnings.push(
    `${context.source.file}: runc's -ENOSYS stub answers ENOSYS for syscall numbers above the highest one the profile names; ` +
      `the imported policy gives these ${formatAction(defaultAction, errnoName)} instead (${parts.join('; ')})`,
  );
}

/** libseccomp compares only the low 32 bits of a value on 32-bit ABIs; the IR compares all 64 there too. */
function warnAbout32BitTruncation(
  context: ImportContext,
  rules: readonly PolicyRule[],
  arches: readonly Arch[],
): void {
  const narrow = arches.filter((arch) => ARCH_BITS[arch] === 32);
  if (narrow.length === 0) return;
  for (const rule of rules) {
    const wide = rule.conditions.some((c) => c.value > LOW_32 || (c.mask ?? 0n) > LOW_32);
    if (!wide) continue;
    const at = rule.location;
    context.warnings.push(
      `${at.file}:${at.line}:${at.column}: a value above 32 bits on ${narrow.join(', ')}: eq/ne/masked_eq compare its low 32 bits there (as libseccomp does), but lt/le/gt/ge against it decide every 32-bit argument alike, where libseccomp compares the cut value`,
    );
  }
}
