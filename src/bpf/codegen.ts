/**
 * Layout: the DAG becomes a linear program in which every jump goes forward. Conditional jumps carry
 * 8-bit offsets, so a target more than 255 instructions away is reached through a `ja` trampoline
 * (32-bit offset) or a copied `ret` next to the jump; insertion shifts code, so fixing repeats until
 * nothing is far.
 */
import type { DagNode } from './dag.js';
import { opcodeOf, successors } from './dag.js';
import type { SockFilter } from './insn.js';
import { BPF_JA, BPF_JMP } from './insn.js';

/** Longest forward distance a conditional jump can encode. */
const MAX_SHORT_JUMP = 255;

/** A placed instruction whose jump targets are other items, resolved to offsets at the end. */
interface Item {
  readonly node: DagNode | undefined;
  /** Conditional jump targets. */
  jt?: Item;
  jf?: Item;
  /** Unconditional jump target (continuation after a load, or a trampoline). */
  ja?: Item;
}

export interface Layout {
  readonly program: SockFilter[];
  /** `ja` instructions added: continuations the layout could not place next, plus trampolines. */
  readonly jumpsAdded: number;
  /** `ret` instructions repeated so a far jump to a return needs no trampoline. */
  readonly returnsCopied: number;
}

/**
 * Places the DAG reachable from root as a forward-only program with every jump in range. `hot` nodes
 * are placed right after their parent (the native ABI's search, so its entry needs no trampoline).
 */
export function layoutProgram(root: DagNode, hot: ReadonlySet<DagNode> = new Set()): Layout {
  const placed = placeNodes(topologicalOrder(root, hot));
  const nodeCount = placed.filter((item) => item.node !== undefined).length;
  const items = fixFarJumps(placed);
  const jumpsAdded = items.filter((item) => item.node === undefined).length;
  return { program: encode(items), jumpsAdded, returnsCopied: items.length - jumpsAdded - nodeCount };
}

/**
 * Nodes in an order where each comes after every node that jumps to it: a depth-first walk that places
 * a node once its last predecessor is placed, so a shared node sits as close as it can to its users.
 * After a node, the walk continues with its hot or smaller successor (a load's only successor lands
 * right after it, needing no `ja`); the other branch's jump then only spans that smaller subtree.
 */
function topologicalOrder(root: DagNode, hot: ReadonlySet<DagNode>): DagNode[] {
  const size = subtreeSizes(root);
  const waitingFor = predecessorCounts(root);
  const order: DagNode[] = [];
  const ready: DagNode[] = [root];
  const firstPlaced = (a: DagNode, b: DagNode): number =>
    Number(hot.has(b)) - Number(hot.has(a)) || size(a) - size(b);
  while (ready.length > 0) {
    const node = ready.pop()!;
    order.push(node);
    // Pushed last is popped first: sort so the successor to place next ends up on top.
    const next = [...successors(node)].sort((a, b) => firstPlaced(b, a));
    for (const child of next) {
      const remaining = waitingFor.get(child.id)! - 1;
      waitingFor.set(child.id, remaining);
      if (remaining === 0) ready.push(child);
    }
  }
  return order;
}

/** How many jump/fall-through edges lead into each node. */
function predecessorCounts(root: DagNode): Map<number, number> {
  const counts = new Map<number, number>([[root.id, 0]]);
  const pending = [root];
  while (pending.length > 0) {
    for (const child of successors(pending.pop()!)) {
      const seen = counts.has(child.id);
      counts.set(child.id, (counts.get(child.id) ?? 0) + 1);
      if (!seen) pending.push(child);
    }
  }
  return counts;
}

/** Instruction count of each node's subtree as if nothing were shared (a cheap proxy for its span). */
function subtreeSizes(root: DagNode): (node: DagNode) => number {
  const sizes = new Map<number, number>();
  // Recursion depth is the longest path (tree depth plus argument checks), far below the stack limit.
  const size = (node: DagNode): number => {
    const known = sizes.get(node.id);
    if (known !== undefined) return known;
    const total = Math.min(1 + successors(node).reduce((sum, child) => sum + size(child), 0), 1 << 20);
    sizes.set(node.id, total);
    return total;
  };
  size(root);
  return size;
}

/** One item per node, plus a `ja` after any load/ALU whose successor is not the next node. */
function placeNodes(order: readonly DagNode[]): Item[] {
  const itemOf = new Map<number, Item>();
  for (const node of order) itemOf.set(node.id, { node });
  const items: Item[] = [];
  order.forEach((node, position) => {
    const item = itemOf.get(node.id)!;
    items.push(item);
    if (node.kind === 'jump') {
      item.jt = itemOf.get(node.whenTrue.id)!;
      item.jf = itemOf.get(node.whenFalse.id)!;
    } else if (node.kind !== 'ret' && order[position + 1] !== node.next) {
      items.push({ node: undefined, ja: itemOf.get(node.next.id)! });
    }
  });
  return items;
}

/**
 * Gives every out-of-range conditional branch its own stand-in right after the jump: a copy of the
 * target when it is a `ret` (as short as a `ja`, one instruction fewer on the path), else a `ja` to it.
 * Insertions push other jumps further, so passes repeat; nothing is ever inserted between a jump and
 * its stand-ins, so a fixed branch stays fixed and the loop ends.
 */
function fixFarJumps(initial: readonly Item[]): Item[] {
  let items = [...initial];
  for (;;) {
    const position = new Map<Item, number>();
    items.forEach((item, index) => position.set(item, index));
    const fixed: Item[] = [];
    items.forEach((item, at) => {
      fixed.push(item);
      for (const branch of ['jt', 'jf'] as const) {
        const target = item[branch];
        if (target === undefined || position.get(target)! - at - 1 <= MAX_SHORT_JUMP) continue;
        const standIn = standInFor(target);
        item[branch] = standIn;
        fixed.push(standIn);
      }
    });
    if (fixed.length === items.length) return items;
    items = fixed;
  }
}

/** What a far branch can jump to instead of `target`, always resolving to the real destination. */
function standInFor(target: Item): Item {
  // A stand-in that drifted out of reach is bypassed, never chained (no ja -> ja).
  const destination = target.node === undefined ? target.ja! : target;
  return destination.node?.kind === 'ret' ? { node: destination.node } : { node: undefined, ja: destination };
}

function encode(items: readonly Item[]): SockFilter[] {
  const position = new Map<Item, number>();
  items.forEach((item, index) => position.set(item, index));
  const distance = (from: number, to: Item): number => {
    const offset = position.get(to)! - from - 1;
    if (offset < 0) throw new Error(`internal: backward jump from ${from} (layout must be forward-only)`);
    return offset;
  };
  return items.map((item, at): SockFilter => {
    const node = item.node;
    if (node === undefined) return { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: distance(at, item.ja!) };
    switch (node.kind) {
      case 'ret':
      case 'and':
        return { code: opcodeOf(node), jt: 0, jf: 0, k: node.k };
      case 'load':
        return { code: opcodeOf(node), jt: 0, jf: 0, k: node.offset };
      case 'jump': {
        const jt = distance(at, item.jt!);
        const jf = distance(at, item.jf!);
        if (jt > MAX_SHORT_JUMP || jf > MAX_SHORT_JUMP)
          throw new Error(`internal: jump at ${at} out of range`);
        return { code: opcodeOf(node), jt, jf, k: node.k };
      }
    }
  });
}
