/**
 * The seccomp-BPF compiler: resolved policy -> classic BPF program for one kernel architecture.
 * Stages (each a pure function in its own module):
 *   decision.ts  policy -> per-AUDIT_ARCH intervals of syscall numbers with one target each
 *   tree.ts      intervals -> weighted binary search tree of `jge K` comparisons
 *   argcheck.ts  conditional rules -> argument-check subprograms
 *   dag.ts       all of it as an interned DAG (identical tails emitted once)
 *   codegen.ts   DAG -> forward-only linear program with `ja` trampolines for far jumps
 */
import { actionToRet } from '../policy/action.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import type { Arch } from '../syscalls/arch.js';
import { isBigEndian, kernelAbis } from '../syscalls/arch.js';
import { buildArgCheck } from './argcheck.js';
import { cacheableSyscalls } from './cache.js';
import { CompileError } from './compile-error.js';
import type { DagNode } from './dag.js';
import { NodePool } from './dag.js';
import type { ArchGroup, NrInterval } from './decision.js';
import { buildDecisions } from './decision.js';
import type { Layout } from './codegen.js';
import { layoutProgram } from './codegen.js';
import type { SockFilter } from './insn.js';
import { BPF_JEQ, BPF_JGE, BPF_MAXINSNS, SECCOMP_DATA } from './insn.js';
import type { SearchTree } from './tree.js';
import { buildSearchTree } from './tree.js';

export { CompileError } from './compile-error.js';
export { formatC } from './format-c.js';

export interface CompileOptions {
  /** The native architecture of the kernel the filter is installed on. */
  readonly arch: Arch;
  /** Syscall name -> observed count: hot syscalls get shorter paths through the program. */
  readonly profile?: ReadonlyMap<string, number>;
}

export interface ArchGroupStats {
  readonly auditArch: number;
  readonly abis: readonly Arch[];
  /** Distinct runs of syscall numbers the search tree separates. */
  readonly intervals: number;
  /** Most comparisons on a path from the number load to a leaf. */
  readonly maxDepth: number;
}

export interface CompileStats {
  readonly instructions: number;
  /**
   * Per ABI, the allowed syscalls the kernel's action cache (5.11+) will skip the filter for, found by the
   * kernel's own walk (cache.ts) over the finished program: none for x32 or arm's private 0x0f0000 calls.
   */
  readonly cacheable: ReadonlyArray<{ readonly abi: Arch; readonly syscalls: readonly string[] }>;
  readonly groups: readonly ArchGroupStats[];
  /** Unconditional jumps the layout had to add (continuations and trampolines for far targets). */
  readonly jumpsAdded: number;
  /** Returns repeated near far jumps instead of trampolines. */
  readonly returnsCopied: number;
  /** Distinct DAG nodes: the program before layout, with identical tails shared. */
  readonly nodes: number;
}

export interface CompileResult {
  readonly program: SockFilter[];
  /** Byte order of seccomp_data on the target (argument word offsets depend on it). */
  readonly bigEndian: boolean;
  /** ABIs the program accepts (the policy's ∩ the kernel's), native first; others get badArchAction. */
  readonly abis: Arch[];
  readonly stats: CompileStats;
  readonly warnings: string[];
}

/** One AUDIT_ARCH's intervals and the tree that searches them. */
interface GroupSearch {
  readonly group: ArchGroup;
  readonly tree: SearchTree;
}

/** Compiles a resolved policy to a seccomp-BPF program for a kernel of options.arch; throws CompileError. */
export function compile(policy: ResolvedPolicy, options: CompileOptions): CompileResult {
  const kernel = kernelAbis(options.arch);
  const abis = kernel.filter((abi) => policy.architectures.includes(abi));
  if (abis.length === 0) {
    throw new CompileError(
      `policy '${policy.name}' lists ${describeList(policy.architectures)}, none of which runs on a ${kernel[0]} kernel ` +
        `(it runs ${kernel.join(', ')})`,
    );
  }
  const decisions = buildDecisions({ policy, abis, nativeAbi: kernel[0]!, profile: options.profile });
  const bigEndian = isBigEndian(kernel[0]!);
  const searches = decisions.groups.map((group) => ({ group, tree: buildSearchTree(group.intervals) }));
  // Fastest first: each ABI's argument checks next to its search. If too long, share them across ABIs.
  const fast = generate(searches, policy, bigEndian, 'per-abi');
  const { layout, pool } =
    fast.layout.program.length > BPF_MAXINSNS ? generate(searches, policy, bigEndian, 'shared') : fast;
  if (layout.program.length > BPF_MAXINSNS) {
    throw new CompileError(
      `policy '${policy.name}' compiles to ${layout.program.length} instructions for ${kernel[0]}, over the kernel's ` +
        `limit of ${BPF_MAXINSNS} (BPF_MAXINSNS); use fewer argument rules or merge rules with the same conditions`,
    );
  }
  return {
    program: layout.program,
    bigEndian,
    abis: [...abis],
    stats: {
      instructions: layout.program.length,
      cacheable: abis.map((abi) => ({ abi, syscalls: cacheableSyscalls(layout.program, abi).cacheable })),
      groups: searches.map(groupStats),
      jumpsAdded: layout.jumpsAdded,
      returnsCopied: layout.returnsCopied,
      nodes: pool.size,
    },
    warnings: [...decisions.warnings, ...unusedArchWarnings(policy, kernel)],
  };
}

/** Whether identical argument checks are shared between ABIs (smaller) or kept per ABI (faster). */
type Sharing = 'per-abi' | 'shared';

/** Builds the program DAG and lays it out. */
function generate(
  searches: readonly GroupSearch[],
  policy: ResolvedPolicy,
  bigEndian: boolean,
  sharing: Sharing,
): { readonly layout: Layout; readonly pool: NodePool } {
  const pool = new NodePool();
  const { root, nativeEntry } = dispatchOnArch(pool, searches, policy, bigEndian, sharing);
  return { layout: layoutProgram(root, new Set([nativeEntry])), pool };
}

/**
 * `ld arch`, then one `jeq` per AUDIT_ARCH (native first) into its number search; anything else is
 * badArch. Also returns the native search's entry, which the layout places right after its `jeq`.
 */
function dispatchOnArch(
  pool: NodePool,
  searches: readonly GroupSearch[],
  policy: ResolvedPolicy,
  bigEndian: boolean,
  sharing: Sharing,
): { readonly root: DagNode; readonly nativeEntry: DagNode } {
  const badArch = pool.ret(actionToRet(policy.badArchAction));
  const leafNode = makeLeafBuilder(pool, bigEndian, sharing);
  const entries = searches.map(({ tree }) => pool.load(SECCOMP_DATA.NR, searchNode(pool, tree, leafNode)));
  const chain = searches.reduceRight<DagNode>(
    (otherwise, { group }, index) => pool.jump(BPF_JEQ, group.auditArch, entries[index]!, otherwise),
    badArch,
  );
  return { root: pool.load(SECCOMP_DATA.ARCH, chain), nativeEntry: entries[0]! };
}

/** Turns a search tree into `jge` nodes over its leaves' code. */
function searchNode(pool: NodePool, tree: SearchTree, leafNode: (interval: NrInterval) => DagNode): DagNode {
  if (tree.kind === 'leaf') return leafNode(tree.interval);
  return pool.jump(
    BPF_JGE,
    tree.at,
    searchNode(pool, tree.atOrAbove, leafNode),
    searchNode(pool, tree.below, leafNode),
  );
}

/** An interval's code, entered with the syscall number in A; built once per distinct target (and ABI). */
function makeLeafBuilder(
  pool: NodePool,
  bigEndian: boolean,
  sharing: Sharing,
): (interval: NrInterval) => DagNode {
  const built = new Map<string, DagNode>();
  return ({ target, abi }) => {
    const scope = sharing === 'per-abi' ? `${abi}:` : '';
    const key = scope + target.key;
    const known = built.get(key);
    if (known) return known;
    pool.enterScope(scope);
    const node =
      target.kind === 'ret'
        ? pool.ret(target.ret)
        : buildArgCheck(target, { pool, bigEndian }, SECCOMP_DATA.NR);
    pool.enterScope('');
    built.set(key, node);
    return node;
  };
}

function groupStats({ group, tree }: GroupSearch): ArchGroupStats {
  return {
    auditArch: group.auditArch,
    abis: group.abis,
    intervals: group.intervals.length,
    maxDepth: treeDepth(tree),
  };
}

function treeDepth(tree: SearchTree): number {
  return tree.kind === 'leaf' ? 0 : 1 + Math.max(treeDepth(tree.below), treeDepth(tree.atOrAbove));
}

/** Policy architectures this kernel cannot run are left out of the program; say so. */
function unusedArchWarnings(policy: ResolvedPolicy, kernel: readonly Arch[]): string[] {
  const unused = policy.architectures.filter((abi) => !kernel.includes(abi));
  if (unused.length === 0) return [];
  return [
    `policy '${policy.name}' also lists ${describeList(unused)}, which a ${kernel[0]} kernel cannot run; ` +
      `the program returns badArchAction for them`,
  ];
}

function describeList(items: readonly string[]): string {
  return items.length === 0 ? 'no architectures' : items.join(', ');
}
