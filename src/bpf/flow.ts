/**
 * Forward dataflow over a validated classic-BPF program. Jumps only go forward, so one pass in
 * instruction order sees every predecessor of an instruction before the instruction itself: no
 * worklist, no fixpoint. Shared by the action-cache analysis and the disassembler's arch tracking.
 */
import type { Program, SockFilter } from './insn.js';

/** The state that flows along one edge into instruction `target`. */
export interface FlowEdge<S> {
  readonly target: number;
  readonly state: S;
}

/** Computes the edges leaving one instruction given the state on entry (none for a RET). */
export type Transfer<S> = (insn: SockFilter, pc: number, state: S) => readonly FlowEdge<S>[];

/** The entry state of every instruction (undefined where unreachable), joining states where paths meet. */
export function forwardFlow<S>(
  program: Program,
  entry: S,
  join: (a: S, b: S) => S,
  transfer: Transfer<S>,
): (S | undefined)[] {
  const states: (S | undefined)[] = new Array<S | undefined>(program.length).fill(undefined);
  states[0] = entry;
  program.forEach((insn, pc) => {
    const state = states[pc];
    if (state === undefined) return;
    for (const edge of transfer(insn, pc, state)) {
      if (edge.target <= pc || edge.target >= program.length) {
        throw new Error(`instruction ${pc}: jump to ${edge.target} is not forward and in range`);
      }
      const seen = states[edge.target];
      states[edge.target] = seen === undefined ? edge.state : join(seen, edge.state);
    }
  });
  return states;
}
