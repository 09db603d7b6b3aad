/**
 * Checking learned output against what it was learned from, with the reference evaluator: a generated
 * policy must allow every observed call, and a rollout patch must allow every addition it enables.
 * Used by the CLI before writing anything, and by the tests.
 */
import { formatAction } from '../policy/action.js';
import { decide } from '../policy/evaluate.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { syscallNumber } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import type { ObservedCall } from './observed.js';

/** Argument registers that carry a call's learned values (the rest 0, which learned rules never test). */
export function sampleArgs(call: Pick<ObservedCall, 'args'>): bigint[] {
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const arg of call.args) args[arg.index] = BigInt(arg.value);
  return args;
}

/** `socket on x86_64 [0x10]: errno(EPERM)` for each ABI of each call the policy does not allow. */
export function callsNotAllowed(policy: ResolvedPolicy, calls: readonly ObservedCall[]): string[] {
  const problems: string[] = [];
  for (const call of calls) {
    for (const abi of call.abis) {
      const nr = syscallNumber(abi, call.syscall);
      if (nr === undefined) continue;
      const decision = decide(policy, abi, nr, sampleArgs(call));
      if (decision.action.kind === 'allow') continue;
      const values = call.args.length === 0 ? '' : ` [${call.args.map((arg) => arg.value).join(', ')}]`;
      const where =
        decision.rule === undefined
          ? decision.decidedBy
          : `rule at ${decision.rule.location.file}:${decision.rule.location.line}`;
      problems.push(
        `${call.syscall} on ${abi}${values}: ${formatAction(decision.action, errnoName)} (${where})`,
      );
    }
  }
  return problems;
}
