/**
 * The program as a DAG before layout: every node is interned (hash-consed), so identical return
 * statements, argument checks and subtrees exist once and are emitted once. Construction also folds
 * jumps whose outcome is fixed (both branches equal, `jge 0`, `jgt 0xffffffff`, `jset 0`), so no
 * instruction is spent on a test that cannot fail.
 */
import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
} from './insn.js';

export type JumpOp = typeof BPF_JEQ | typeof BPF_JGT | typeof BPF_JGE | typeof BPF_JSET;

export type DagNode =
  | { readonly kind: 'ret'; readonly id: number; readonly k: number }
  /** A = 32-bit word of seccomp_data at byte `offset`, then continue at next. */
  | { readonly kind: 'load'; readonly id: number; readonly offset: number; readonly next: DagNode }
  /** A &= k, then continue at next. */
  | { readonly kind: 'and'; readonly id: number; readonly k: number; readonly next: DagNode }
  | {
      readonly kind: 'jump';
      readonly id: number;
      readonly op: JumpOp;
      readonly k: number;
      readonly whenTrue: DagNode;
      readonly whenFalse: DagNode;
    };

/** The classic BPF opcode of a load, ALU or conditional-jump node. */
export function opcodeOf(node: DagNode): number {
  switch (node.kind) {
    case 'load':
      return BPF_LD | BPF_W | BPF_ABS;
    case 'and':
      return BPF_ALU | BPF_AND | BPF_K;
    case 'jump':
      return BPF_JMP | node.op | BPF_K;
    case 'ret':
      return BPF_RET | BPF_K;
  }
}

/** The nodes a node continues to (jump: true branch first). */
export function successors(node: DagNode): readonly DagNode[] {
  switch (node.kind) {
    case 'ret':
      return [];
    case 'load':
    case 'and':
      return [node.next];
    case 'jump':
      return [node.whenTrue, node.whenFalse];
  }
}

/** Creates nodes, returning the existing one when an identical node was made before. */
export class NodePool {
  private readonly nodes = new Map<string, DagNode>();
  /**
   * Nodes are shared only within one scope. The compiler scopes each ABI's leaves (returns, argument
   * checks) so they sit right after that ABI's search: one shared with another ABI's search would lie
   * beyond that search too, out of short-jump reach.
   */
  private scope = '';

  /** Starts a sharing scope for the nodes created from now on. */
  enterScope(scope: string): void {
    this.scope = scope;
  }

  /** Number of distinct nodes created. */
  get size(): number {
    return this.nodes.size;
  }

  ret(k: number): DagNode {
    const value = k >>> 0;
    return this.intern(`${this.scope}r${value}`, (id) => ({ kind: 'ret', id, k: value }));
  }

  load(offset: number, next: DagNode): DagNode {
    return this.intern(`${this.scope}l${offset}>${next.id}`, (id) => ({ kind: 'load', id, offset, next }));
  }

  and(k: number, next: DagNode): DagNode {
    const value = k >>> 0;
    return this.intern(`${this.scope}a${value}>${next.id}`, (id) => ({ kind: 'and', id, k: value, next }));
  }

  /** A conditional jump on A op k; returns a branch directly when the test's outcome is fixed. */
  jump(op: JumpOp, k: number, whenTrue: DagNode, whenFalse: DagNode): DagNode {
    const value = k >>> 0;
    if (whenTrue === whenFalse) return whenTrue;
    if (op === BPF_JGE && value === 0) return whenTrue;
    if (op === BPF_JGT && value === 0xffffffff) return whenFalse;
    if (op === BPF_JSET && value === 0) return whenFalse;
    return this.intern(`${this.scope}j${op}:${value}?${whenTrue.id}:${whenFalse.id}`, (id) => ({
      kind: 'jump',
      id,
      op,
      k: value,
      whenTrue,
      whenFalse,
    }));
  }

  private intern(key: string, make: (id: number) => DagNode): DagNode {
    const existing = this.nodes.get(key);
    if (existing) return existing;
    const node = make(this.nodes.size);
    this.nodes.set(key, node);
    return node;
  }
}
