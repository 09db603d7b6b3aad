/**
 * Exporting a resolved policy for the Kubernetes Security Profiles Operator: SeccompProfile manifests
 * (security-profiles-operator.x-k8s.io/v1, cluster-scoped, as SPO serves it now; or v1beta1 in a
 * namespace for older releases), the Pod / Deployment securityContext that points at the installed
 * file, and the raw OCI JSON for nodes without SPO (/var/lib/kubelet/seccomp/...).
 *
 * The spec of each profile is the OCI exporter's output, so everything oci-export.ts refuses or warns
 * about applies here too. Layered mode writes one profile per policy layer, each naming the next as
 * `baseProfileName`; SPO unions the layers' syscalls, which equals the policy's first match only when
 * no syscall gets different actions in different layers, so anything else is refused (use the flat mode).
 * On top of OCI the CRD has no defaultErrnoRet (the runtime then answers EPERM), allows values only up
 * to 2^63-1 (int64) and knows no SCMP_ARCH_LOONGARCH64.
 */
import { Document, parse } from 'yaml';
import { actionToRet, formatAction } from '../policy/action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { errnoName } from '../syscalls/errno.js';
import { exportOci } from './oci-export.js';
import { SPO_GROUP } from './spo-import.js';

export interface SpoExportOptions {
  /** Write v1beta1 profiles in this namespace (SPO before v0.9); default: cluster-scoped v1. */
  readonly namespace?: string;
  /** One profile per layer linked by baseProfileName (default: true when the policy has several layers). */
  readonly layered?: boolean;
  /** The name of the (most derived) profile; default: the policy's name made a valid Kubernetes name. */
  readonly name?: string;
}

export interface SpoFile {
  /** Relative path: manifests at the top, the node file under kubelet-seccomp/ (= /var/lib/kubelet/seccomp/). */
  readonly path: string;
  readonly text: string;
}

export interface SpoExportResult {
  /** The SeccompProfile manifests as one multi-document YAML, bases first (kubectl apply -f). */
  readonly text: string;
  /** securityContext.seccompProfile.localhostProfile for Pods using the profile. */
  readonly localhostProfile: string;
  /** seccompprofile.yaml, pod-patch.yaml, deployment-patch.yaml and kubelet-seccomp/<localhostProfile>. */
  readonly files: readonly SpoFile[];
  readonly warnings: readonly string[];
}

/** The largest value the CRD's int64 fields hold. */
const INT64_MAX = (1n << 63n) - 1n;
/** Architectures the CRD's enum lists (SCMP_ARCH_NATIVE aside). */
const CRD_ARCHES: ReadonlySet<string> = new Set([
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_RISCV64',
]);

/** Exports the policy as SPO SeccompProfile(s) plus the Pod patch; throws a PolicyError naming the rule where it cannot be exact. */
export function exportSpo(policy: ResolvedPolicy, options: SpoExportOptions = {}): SpoExportResult {
  const warnings: string[] = [];
  checkValueRange(policy);
  const topName = kubernetesName(options.name ?? policy.name);
  const layered = (options.layered ?? policy.layers.length > 1) && policy.layers.length > 1;
  const profiles = layered
    ? layeredProfiles(policy, topName, options, warnings)
    : [flatProfile(policy, topName, options, warnings)];
  const localhostProfile =
    options.namespace === undefined
      ? `operator/${topName}.json`
      : `operator/${options.namespace}/${topName}.json`;
  const text = profiles.map((profile) => new Document(profile).toString({ lineWidth: 0 })).join('---\n');
  const node = exportOci(policy);
  const files: SpoFile[] = [
    { path: 'seccompprofile.yaml', text },
    { path: 'pod-patch.yaml', text: podPatch(localhostProfile, ['spec']) },
    { path: 'deployment-patch.yaml', text: podPatch(localhostProfile, ['spec', 'template', 'spec']) },
    { path: `kubelet-seccomp/${localhostProfile}`, text: node.json },
  ];
  return { text, localhostProfile, files, warnings: [...new Set(warnings)] };
}

/** A valid metadata.name (RFC 1123 subdomain): lower case, [a-z0-9.-], alphanumeric at both ends. */
function kubernetesName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
  if (cleaned === '')
    throw policyFailure(`'${name}' cannot be made a Kubernetes name`, undefined, 'pass a name');
  return cleaned;
}

function ruleName(rule: PolicyRule): string {
  const at = rule.location;
  return `rule of layer '${rule.layer}' (${at.file}:${at.line}:${at.column})`;
}

/** The CRD types value and valueTwo as int64 (minimum 0): a mask or value with the top bit set cannot be written. */
function checkValueRange(policy: ResolvedPolicy): void {
  const tooBig = (condition: ArgCondition): boolean =>
    condition.value > INT64_MAX || (condition.mask ?? 0n) > INT64_MAX;
  const rule = policy.rules.find((candidate) => candidate.conditions.some(tooBig));
  if (rule !== undefined) {
    throw policyFailure(
      `the SeccompProfile CRD holds argument values as int64 (0..2^63-1); this rule compares with a larger one (${ruleName(rule)})`,
      rule.location,
      'compare with a value below 2^63, e.g. a masked_eq on the bits that matter',
    );
  }
}

type Manifest = Record<string, unknown>;

function flatProfile(
  policy: ResolvedPolicy,
  name: string,
  options: SpoExportOptions,
  warnings: string[],
): Manifest {
  return manifest(name, specOf(policy, warnings), options);
}

/** One profile per layer (most derived = `topName`), each naming the next as its base; written base first. */
function layeredProfiles(
  policy: ResolvedPolicy,
  topName: string,
  options: SpoExportOptions,
  warnings: string[],
): Manifest[] {
  checkLayersAgree(policy);
  const names = policy.layers.map((layer, i) => (i === 0 ? topName : kubernetesName(layer.name)));
  const manifests = policy.layers.map((layer, i) => {
    const layerPolicy: ResolvedPolicy = {
      ...policy,
      rules: policy.rules.filter((rule) => rule.layer === layer.name),
    };
    const spec = specOf(layerPolicy, warnings);
    const base = names[i + 1];
    return manifest(
      names[i] ?? topName,
      base === undefined ? spec : { ...spec, baseProfileName: base },
      options,
    );
  });
  return manifests.reverse();
}

/** SPO's union cannot let a derived layer give a syscall another action than a base layer does. */
function checkLayersAgree(policy: ResolvedPolicy): void {
  const first = new Map<string, PolicyRule>();
  for (const rule of policy.rules) {
    for (const name of rule.syscalls) {
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, rule);
      else if (earlier.layer !== rule.layer && actionToRet(earlier.action) !== actionToRet(rule.action)) {
        throw policyFailure(
          `'${name}': layer '${earlier.layer}' gives ${formatAction(earlier.action, errnoName)}, its base '${rule.layer}' ${formatAction(rule.action, errnoName)} (${ruleName(rule)}); ` +
            'SPO unions base profiles instead of letting the derived one win, so the layers cannot be exported as baseProfileName links',
          earlier.location,
          'export flattened (layered: false) or give the syscall one action across layers',
        );
      }
    }
  }
}

/** The OCI export as a SeccompProfile spec, adapted to what the CRD can hold. */
function specOf(policy: ResolvedPolicy, warnings: string[]): Manifest {
  const oci = exportOci(policy);
  warnings.push(...oci.warnings);
  // yaml reads the JSON with integers as bigints, so 64-bit values stay exact.
  const spec = parse(oci.json, { intAsBigInt: true }) as Manifest;
  const defaultErrnoRet = spec['defaultErrnoRet'];
  if (defaultErrnoRet !== undefined) {
    delete spec['defaultErrnoRet'];
    if (defaultErrnoRet !== 1n) {
      warnings.push(
        `the default errno ${formatAction(policy.defaultAction, errnoName)} is not carried: the SeccompProfile CRD has no defaultErrnoRet, so the runtime answers EPERM`,
      );
    }
  }
  const arches = spec['architectures'];
  if (Array.isArray(arches)) {
    const kept = arches.filter((arch) => typeof arch === 'string' && CRD_ARCHES.has(arch));
    if (kept.length !== arches.length) {
      warnings.push(
        `architectures the CRD does not list are left out (${arches.filter((a) => !kept.includes(a)).join(', ')}); their processes get kill_thread`,
      );
    }
    spec['architectures'] = kept;
  }
  return spec;
}

function manifest(name: string, spec: Manifest, options: SpoExportOptions): Manifest {
  const namespaced = options.namespace !== undefined;
  return {
    apiVersion: `${SPO_GROUP}/${namespaced ? 'v1beta1' : 'v1'}`,
    kind: 'SeccompProfile',
    metadata: { name, ...(namespaced ? { namespace: options.namespace } : {}) },
    spec,
  };
}

/** A strategic-merge patch setting the pod-level seccompProfile to the installed file. */
function podPatch(localhostProfile: string, path: readonly string[]): string {
  let body: Manifest = { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile } } };
  for (const key of [...path].reverse()) body = { [key]: body };
  return new Document(body).toString();
}
