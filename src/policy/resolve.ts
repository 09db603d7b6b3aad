/**
 * Layering: loads a policy file and everything it `extends` (depth-first, each file once, cycles are
 * errors), then merges the layers into the ResolvedPolicy every consumer reads.
 *
 * Precedence order of layers: every layer comes before all layers it extends, directly or not, and
 * siblings keep their `extends` order. For a chain exceptions → region → business → base that is simply
 * the chain; in a diamond (D extends [B, C], both extend A) it is D, B, C, A — A's rules must not come
 * before C's, since C is the more specific layer and first match wins.
 */
import { dirname, isAbsolute, join, normalize, resolve as resolvePath } from 'node:path';
import type { Action } from './action.js';
import type {
  FilesystemRules,
  LayerInfo,
  NetworkRules,
  PolicyMetadata,
  ResolvedPolicy,
  SourceLocation,
} from './ir.js';
import { parseLayer, type ExtendsReference, type PolicyLayer } from './parse.js';
import { policyFailure, ProblemList } from './problems.js';

/** Reads a policy file's text; the loader's only I/O, injectable for tests and virtual files. */
export type ReadPolicyFile = (file: string) => Promise<string> | string;

/** errno(ENOSYS): what a syscall number missing from the ABI's table gets unless a layer says otherwise. */
const DEFAULT_UNKNOWN_ACTION: Action = { kind: 'errno', errno: 38 };
const DEFAULT_BAD_ARCH_ACTION: Action = { kind: 'kill_process' };

interface LoadedLayer {
  readonly layer: PolicyLayer;
  /** Identities (absolute paths) of the layers it extends, in `extends` order. */
  readonly parents: readonly string[];
}

/**
 * Loads `entryFile` (or parses `entryText` as that file) and its extended layers and merges them.
 * Throws one PolicyError listing every problem found in any layer.
 */
export async function resolvePolicy(
  entryFile: string,
  readFile: ReadPolicyFile,
  entryText?: string,
): Promise<ResolvedPolicy> {
  const problems = new ProblemList();
  const loader = new LayerLoader(readFile, problems);
  const entryId = identity(entryFile);
  await loader.load(normalize(entryFile), [], undefined, entryText);
  problems.throwIfAny();
  const layers = precedenceOrder(entryId, loader.layers);
  const policy = mergeLayers(layers, problems);
  problems.throwIfAny();
  if (policy === undefined) throw policyFailure(`no policy could be read from ${entryFile}`);
  return policy;
}

function identity(file: string): string {
  return resolvePath(file);
}

/** Loads layers depth-first in `extends` order, recording each file once and every problem located. */
class LayerLoader {
  readonly layers = new Map<string, LoadedLayer | null>();

  constructor(
    private readonly readFile: ReadPolicyFile,
    private readonly problems: ProblemList,
  ) {}

  /** `chain` holds the identities of the layers currently being loaded (for cycle detection). */
  async load(
    file: string,
    chain: readonly string[],
    requestedAt?: SourceLocation,
    text?: string,
  ): Promise<void> {
    const id = identity(file);
    if (this.layers.has(id)) return;
    this.layers.set(id, null);
    const content = text ?? (await this.read(file, requestedAt));
    if (content === undefined) return;
    const layer = parseLayer(content, file, this.problems);
    if (layer === undefined) return;
    const parents: string[] = [];
    this.layers.set(id, { layer, parents });
    for (const reference of layer.extends) {
      const target = referencedFile(file, reference);
      const cycle = findCycle([...chain, id], identity(target));
      if (cycle !== undefined) {
        this.reportCycle(reference, cycle);
        continue;
      }
      parents.push(identity(target));
      await this.load(target, [...chain, id], reference.location);
    }
  }

  private async read(file: string, requestedAt?: SourceLocation): Promise<string | undefined> {
    try {
      return await this.readFile(file);
    } catch (error) {
      const reason = isMissingFile(error)
        ? 'no such file'
        : error instanceof Error
          ? error.message
          : String(error);
      const what = requestedAt === undefined ? 'policy' : 'extended policy';
      this.problems.add(`cannot read ${what} '${file}': ${reason}`, requestedAt);
      return undefined;
    }
  }

  private reportCycle(reference: ExtendsReference, cycle: readonly string[]): void {
    const names = cycle.map((id) => this.layers.get(id)?.layer.file ?? id);
    this.problems.add(
      `extends cycle: ${names.join(' -> ')}`,
      reference.location,
      'a layer may not extend itself, directly or through other layers',
    );
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The file an `extends` entry names: relative paths are relative to the file that wrote them. */
function referencedFile(from: string, reference: ExtendsReference): string {
  return isAbsolute(reference.path) ? normalize(reference.path) : join(dirname(from), reference.path);
}

/** If `target` is already on the loading chain, the cycle it closes (ending where it started). */
function findCycle(chain: readonly string[], target: string): readonly string[] | undefined {
  const start = chain.indexOf(target);
  return start < 0 ? undefined : [...chain.slice(start), target];
}

/**
 * Orders layers so each precedes everything it extends: a post-order walk that visits parents in
 * reverse `extends` order, reversed. (Equivalently: concatenate each layer with its parents' orders
 * and keep only the last occurrence of each layer.)
 */
function precedenceOrder(
  entry: string,
  layers: ReadonlyMap<string, LoadedLayer | null>,
): readonly PolicyLayer[] {
  const postOrder: PolicyLayer[] = [];
  const visited = new Set<string>();
  const visit = (id: string): void => {
    const loaded = layers.get(id);
    if (visited.has(id) || !loaded) return;
    visited.add(id);
    for (const parent of [...loaded.parents].reverse()) visit(parent);
    postOrder.push(loaded.layer);
  };
  visit(entry);
  return postOrder.reverse();
}

/** Merges layers given in precedence order (most derived first) into the resolved policy. */
function mergeLayers(layers: readonly PolicyLayer[], problems: ProblemList): ResolvedPolicy | undefined {
  const entry = layers[0];
  if (entry === undefined) return undefined;
  checkUniqueNames(layers, problems);
  const architectures = firstSet(layers, (layer) => layer.architectures);
  const defaultAction = firstSet(layers, (layer) => layer.defaultAction);
  if (architectures === undefined) reportMissing(entry, 'architectures', 'architectures: [x86_64]', problems);
  if (defaultAction === undefined)
    reportMissing(entry, 'defaultAction', 'defaultAction: errno(EPERM)', problems);
  if (architectures === undefined || defaultAction === undefined) return undefined;
  const filesystem = mergeFilesystem(layers);
  const network = mergeNetwork(layers);
  const metadata = mergeMetadata(layers);
  return {
    name: entry.name,
    architectures,
    defaultAction,
    unknownAction: firstSet(layers, (layer) => layer.unknownAction) ?? DEFAULT_UNKNOWN_ACTION,
    badArchAction: firstSet(layers, (layer) => layer.badArchAction) ?? DEFAULT_BAD_ARCH_ACTION,
    rules: layers.flatMap((layer) => layer.rules),
    layers: layers.map((layer): LayerInfo => ({ name: layer.name, file: layer.file })),
    ...(filesystem === undefined ? {} : { filesystem }),
    ...(network === undefined ? {} : { network }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

/** Layer names identify rules in explain and reviews, so two layers may not share one. */
function checkUniqueNames(layers: readonly PolicyLayer[], problems: ProblemList): void {
  const seen = new Map<string, PolicyLayer>();
  for (const layer of layers) {
    const earlier = seen.get(layer.name);
    if (earlier !== undefined) {
      problems.add(
        `layer name '${layer.name}' is also used by ${earlier.file}`,
        layer.location,
        'give each layer its own name',
      );
    }
    seen.set(layer.name, layer);
  }
}

function reportMissing(entry: PolicyLayer, key: string, example: string, problems: ProblemList): void {
  problems.add(
    `no layer sets ${key}`,
    entry.location,
    `add '${example}' to ${entry.file} or a layer it extends`,
  );
}

/** The setting from the most derived layer that has one. */
function firstSet<T>(
  layers: readonly PolicyLayer[],
  pick: (layer: PolicyLayer) => T | undefined,
): T | undefined {
  for (const layer of layers) {
    const value = pick(layer);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Union of several layers' lists, first occurrence kept, so the most derived layer's order leads. */
function union<T>(lists: readonly (readonly T[])[]): readonly T[] {
  return [...new Set(lists.flat())];
}

function mergeFilesystem(layers: readonly PolicyLayer[]): FilesystemRules | undefined {
  const parts = layers.flatMap((layer) => (layer.filesystem ? [layer.filesystem] : []));
  if (parts.length === 0) return undefined;
  return {
    read: union(parts.map((part) => part.read)),
    write: union(parts.map((part) => part.write)),
    execute: union(parts.map((part) => part.execute)),
  };
}

function mergeNetwork(layers: readonly PolicyLayer[]): NetworkRules | undefined {
  const parts = layers.flatMap((layer) => (layer.network ? [layer.network] : []));
  if (parts.length === 0) return undefined;
  return {
    bindTcp: union(parts.map((part) => part.bindTcp)),
    connectTcp: union(parts.map((part) => part.connectTcp)),
  };
}

/** Per field: the most derived layer that sets it wins. */
function mergeMetadata(layers: readonly PolicyLayer[]): PolicyMetadata | undefined {
  const parts = layers.flatMap((layer) => (layer.metadata ? [layer.metadata] : []));
  if (parts.length === 0) return undefined;
  // Spreading base-first lets each more derived layer overwrite the fields it sets.
  return Object.assign({}, ...[...parts].reverse()) as PolicyMetadata;
}
