/**
 * Importing Kubernetes Security Profiles Operator SeccompProfile resources (security-profiles-operator
 * .x-k8s.io v1, v1beta1, v1alpha1), including ProfileRecording output, into the policy IR.
 *
 * What SPO does with a profile (internal/pkg/daemon/seccompprofile): the spec is an OCI seccomp profile
 * plus `baseProfileName`; the syscalls of the base profiles (recursively, same namespace) are unioned
 * into the profile's, and defaultAction, architectures and flags come from the profile itself. The
 * merged profile is written to /var/lib/kubelet/seccomp/operator/... and installed by the container
 * runtime, so the OCI importer (runc + libseccomp semantics) reads the merged spec.
 *
 * SPO's union is not first-match: older releases kept one arbitrary entry per (action, name), newer
 * ones let the less restrictive action win. A syscall given different actions by different layers is
 * therefore refused rather than guessed; same-action entries union exactly as first-match does.
 */
import { LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { actionToRet } from '../policy/action.js';
import type { LayerInfo, PolicyRule, ResolvedPolicy, SourceLocation } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { importOci, type OciImportOptions } from './oci-import.js';
import { ociAction } from './oci-names.js';
import { stringifyExact } from './spo-json.js';

export const SPO_GROUP = 'security-profiles-operator.x-k8s.io';

export interface SpoImportOptions extends OciImportOptions {
  /** The profile to import (metadata.name); default: the one no other profile names as its base. */
  readonly profile?: string;
}

export interface SpoSourceText {
  readonly text: string;
  readonly file: string;
}

export interface SpoImportResult {
  readonly policy: ResolvedPolicy;
  readonly warnings: readonly string[];
}

/** One SeccompProfile document, its plain spec and where its parts were written. */
interface SpoProfile {
  readonly name: string;
  readonly namespace?: string;
  readonly file: string;
  readonly location: SourceLocation;
  readonly spec: Record<string, unknown>;
  readonly baseName?: string;
  readonly baseLocation?: SourceLocation;
  /** Location of each spec.syscalls[] entry. */
  readonly entryLocations: readonly SourceLocation[];
}

/** One syscalls[] entry of the merged profile and the layer it came from. */
interface MergedEntry {
  readonly profile: SpoProfile;
  readonly index: number;
  readonly entry: Record<string, unknown>;
}

/** Keys of the spec that are SPO's, not OCI's; they are not handed to the OCI importer. */
const SPO_ONLY_KEYS = ['baseProfileName', 'disabled', 'state'];

/** True for YAML/JSON text holding at least one SPO SeccompProfile document. */
export function isSpoProfileText(text: string): boolean {
  return (
    new RegExp(`apiVersion:\\s*["']?${SPO_GROUP.replace(/\./g, '\\.')}/`).test(text) &&
    /kind:\s*["']?SeccompProfile\b/.test(text)
  );
}

/**
 * Imports one SeccompProfile with its base profiles, looked up among all documents of `sources` (the
 * first source is the file asked for; later ones, e.g. sibling files, only supply bases). Throws a
 * located PolicyError for anything SPO or the runtime would reject or that cannot be decided faithfully.
 */
export function importSpo(
  sources: readonly SpoSourceText[],
  options: SpoImportOptions = {},
): SpoImportResult {
  const [first, ...rest] = sources.map(readProfiles);
  if (first === undefined || first.length === 0) {
    throw policyFailure(`no ${SPO_GROUP} SeccompProfile in ${sources[0]?.file ?? 'the input'}`);
  }
  const all = [...first, ...rest.flat()];
  const warnings: string[] = [];
  const target = chooseTarget(first, options.profile, warnings);
  const chain = baseChain(target, all);
  for (const profile of chain) {
    if (profile.spec['disabled'] === true || profile.spec['state'] === 'Disabled') {
      warnings.push(
        `${where(profile.location)}: SeccompProfile ${profile.name} is disabled, so SPO does not install it`,
      );
    }
  }
  const merged = mergedEntries(chain);
  const policy = importMerged(target, chain, merged, options, warnings);
  return { policy, warnings };
}

function where(at: SourceLocation): string {
  return `${at.file}:${at.line}:${at.column}`;
}

/** Every SeccompProfile document of one file; other documents are skipped. */
function readProfiles(source: SpoSourceText): SpoProfile[] {
  const lines = new LineCounter();
  const documents = parseAllDocuments(source.text, {
    lineCounter: lines,
    intAsBigInt: true,
    prettyErrors: false,
  });
  const at = (node: Node | null | undefined): SourceLocation => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    return { file: source.file, line, column: col };
  };
  const list = Array.isArray(documents) ? documents : [];
  const profiles: SpoProfile[] = [];
  for (const document of list) {
    const error = document.errors[0];
    if (error !== undefined) {
      const { line, col } = lines.linePos(error.pos[0]);
      throw policyFailure(`malformed YAML: ${error.message}`, { file: source.file, line, column: col });
    }
    const profile = readProfile(document, at);
    if (profile !== undefined) profiles.push(profile);
  }
  return profiles;
}

function readProfile(
  document: Document,
  at: (node: Node | null | undefined) => SourceLocation,
): SpoProfile | undefined {
  const value: unknown = document.toJS();
  if (!isRecord(value) || value['kind'] !== 'SeccompProfile') return undefined;
  const apiVersion = value['apiVersion'];
  const root = document.contents as Node | null;
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith(`${SPO_GROUP}/`)) return undefined;
  const metadata = value['metadata'];
  const name = isRecord(metadata) ? metadata['name'] : undefined;
  if (typeof name !== 'string' || name === '')
    throw policyFailure('a SeccompProfile has no metadata.name', at(root));
  const spec = value['spec'];
  if (!isRecord(spec)) throw policyFailure(`SeccompProfile ${name} has no spec`, at(root));
  const namespace = isRecord(metadata) ? metadata['namespace'] : undefined;
  const base = spec['baseProfileName'];
  const syscalls = spec['syscalls'];
  const count = Array.isArray(syscalls) ? syscalls.length : 0;
  const node = (path: readonly (string | number)[]): Node | undefined =>
    document.getIn(path, true) as Node | undefined;
  return {
    name,
    ...(typeof namespace === 'string' ? { namespace } : {}),
    file: at(root).file,
    location: at(node(['metadata', 'name']) ?? root),
    spec,
    ...(typeof base === 'string' && base !== ''
      ? { baseName: base, baseLocation: at(node(['spec', 'baseProfileName'])) }
      : {}),
    entryLocations: Array.from({ length: count }, (_, i) => at(node(['spec', 'syscalls', i]))),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The profile asked for, else the one no profile of the file names as its base (the first if several). */
function chooseTarget(
  profiles: readonly SpoProfile[],
  wanted: string | undefined,
  warnings: string[],
): SpoProfile {
  if (wanted !== undefined) {
    const found = profiles.find((profile) => profile.name === wanted);
    if (found === undefined) {
      throw policyFailure(
        `no SeccompProfile named '${wanted}'`,
        profiles[0]?.location,
        `profiles: ${profiles.map((p) => p.name).join(', ')}`,
      );
    }
    return found;
  }
  const bases = new Set(
    profiles.flatMap((profile) => (profile.baseName === undefined ? [] : [profile.baseName])),
  );
  const tops = profiles.filter((profile) => !bases.has(profile.name));
  const target = tops[0] ?? profiles[0];
  if (target === undefined) throw policyFailure('no SeccompProfile to import');
  if (tops.length > 1) {
    warnings.push(
      `${where(target.location)}: the file holds ${tops.length} profiles (${tops.map((p) => p.name).join(', ')}); importing ${target.name} (choose another with the profile option)`,
    );
  }
  return target;
}

/** The profile and its bases, most derived first; a missing, remote or cyclic base is an error. */
function baseChain(target: SpoProfile, all: readonly SpoProfile[]): SpoProfile[] {
  const chain: SpoProfile[] = [target];
  let current = target;
  while (current.baseName !== undefined) {
    const baseName = current.baseName;
    if (baseName.startsWith('oci://')) {
      throw policyFailure(
        `base profile ${baseName} is an OCI artifact, which sysfence cannot fetch`,
        current.baseLocation,
        'pull it (e.g. with oras) and pass it as a sibling file',
      );
    }
    const base = all.find((profile) => profile.name === baseName && profile.namespace === current.namespace);
    if (base === undefined) {
      throw policyFailure(
        `base profile '${baseName}'${current.namespace === undefined ? '' : ` (namespace ${current.namespace})`} is not in the given files`,
        current.baseLocation,
        'put it in the same multi-document YAML or a sibling .yaml file',
      );
    }
    if (chain.includes(base)) {
      throw policyFailure(
        `baseProfileName cycle: ${[...chain, base].map((p) => p.name).join(' -> ')}`,
        current.baseLocation,
      );
    }
    chain.push(base);
    current = base;
  }
  return chain;
}

/** All layers' syscalls[] entries, most derived first, after checking SPO's union cannot change a decision. */
function mergedEntries(chain: readonly SpoProfile[]): MergedEntry[] {
  const entries: MergedEntry[] = chain.flatMap((profile) => {
    const syscalls = profile.spec['syscalls'];
    return (Array.isArray(syscalls) ? syscalls : []).map((entry: unknown, index) => {
      if (!isRecord(entry))
        throw policyFailure(`syscalls[${index}] must be a mapping`, profile.entryLocations[index]);
      return { profile, index, entry: normaliseEntry(entry) };
    });
  });
  checkLayersAgree(entries);
  return entries;
}

/**
 * v1beta1 releases typed errnoRet as a string; the runtime reads a number. A `comment` (not in the CRD,
 * so the API server prunes it) is dropped so importOci's rule reasons keep naming the entry index.
 */
function normaliseEntry(entry: Record<string, unknown>): Record<string, unknown> {
  const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'comment'));
  const errnoRet = rest['errnoRet'];
  if (typeof errnoRet === 'string' && /^\d+$/.test(errnoRet)) return { ...rest, errnoRet: BigInt(errnoRet) };
  return rest;
}

function entryRet(entry: Record<string, unknown>): number | undefined {
  const name = entry['action'];
  const errnoRet = entry['errnoRet'];
  const action =
    typeof name === 'string'
      ? ociAction(name, typeof errnoRet === 'bigint' ? Number(errnoRet) : undefined)
      : undefined;
  return action === undefined ? undefined : actionToRet(action);
}

/** A syscall with different actions in different layers: SPO's union would not keep the derived layer's. */
function checkLayersAgree(entries: readonly MergedEntry[]): void {
  const seen = new Map<string, MergedEntry>();
  for (const merged of entries) {
    const names = merged.entry['names'];
    for (const name of Array.isArray(names) ? names : []) {
      if (typeof name !== 'string') continue;
      const earlier = seen.get(name);
      if (earlier === undefined) {
        seen.set(name, merged);
        continue;
      }
      if (earlier.profile !== merged.profile && entryRet(earlier.entry) !== entryRet(merged.entry)) {
        throw policyFailure(
          `'${name}' has action ${String(earlier.entry['action'])} in ${earlier.profile.name} but ${String(merged.entry['action'])} in its base ${merged.profile.name}; ` +
            'SPO unions base profiles (newer releases let the less restrictive action win, older ones keep an arbitrary one), so the outcome is not defined by the profile',
          earlier.profile.entryLocations[earlier.index],
          'give the syscall one action across the layers',
        );
      }
    }
  }
}

/** The merged profile as OCI JSON, imported with runc semantics, its rules located back in the YAML. */
function importMerged(
  target: SpoProfile,
  chain: readonly SpoProfile[],
  merged: readonly MergedEntry[],
  options: SpoImportOptions,
  warnings: string[],
): ResolvedPolicy {
  const spec = Object.fromEntries(
    Object.entries(target.spec).filter(([key]) => !SPO_ONLY_KEYS.includes(key)),
  );
  const oci = { ...spec, syscalls: merged.map((item) => item.entry) };
  const virtualFile = `${target.file} (SeccompProfile ${target.name}, merged)`;
  const result = importOci(stringifyExact(oci, 2), virtualFile, options);
  warnings.push(...result.warnings.map((warning) => relocate(warning, virtualFile, target)));
  const rules = result.policy.rules.map((rule) => locateRule(rule, merged));
  const layers: LayerInfo[] = chain.map((profile) => ({ name: profile.name, file: profile.file }));
  return { ...result.policy, name: target.name, rules, layers };
}

/** importOci names the merged JSON's line:col; point at the profile instead. */
function relocate(warning: string, virtualFile: string, target: SpoProfile): string {
  const prefix = `${virtualFile}:`;
  if (!warning.startsWith(prefix))
    return warning.replace(virtualFile, `${target.file} (SeccompProfile ${target.name})`);
  const rest = warning.slice(prefix.length).replace(/^(\d+:\d+:)?\s*/, '');
  return `${where(target.location)}: SeccompProfile ${target.name}: ${rest}`;
}

/** importOci's reason ends in syscalls[N] of the merged list (no entry has a comment): map N back. */
function locateRule(rule: PolicyRule, merged: readonly MergedEntry[]): PolicyRule {
  const index = Number(/syscalls\[(\d+)\]$/.exec(rule.reason)?.[1]);
  const source = merged[index];
  if (source === undefined) return rule;
  const location = source.profile.entryLocations[source.index] ?? source.profile.location;
  return {
    ...rule,
    layer: source.profile.name,
    location,
    reason: `imported from SeccompProfile ${source.profile.name} syscalls[${source.index}] (${where(location)})`,
  };
}
