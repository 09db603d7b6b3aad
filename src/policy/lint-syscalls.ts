/**
 * Lints about which syscalls get through: risky ones, io_uring, holes between equivalent syscalls,
 * rules on vDSO-served calls, and the socketcall/ipc multiplexers. Driven by the syscall data
 * (risk catalogue, equivalence classes, vDSO list, multiplexer tables) so new entries there are
 * checked without touching this file.
 */
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { errnoNumber } from '../syscalls/errno.js';
import {
  EQUIVALENCE_CLASSES,
  MULTIPLEXERS,
  VDSO_SYSCALLS,
  type EquivalenceClass,
  type Multiplexer,
} from '../syscalls/equivalents.js';
import { RISK_CATALOGUE, type RiskLevel } from '../syscalls/risk.js';
import { decide } from './evaluate.js';
import { finding, type Finding, type Severity } from './lint-catalogue.js';
import {
  abisWith,
  actionText,
  exposureOf,
  firstLettingThrough,
  letsThrough,
  outcomesFor,
  restrictingRule,
  selectorsText,
  type Outcome,
} from './lint-decisions.js';
import type { PolicyRule, ResolvedPolicy } from './ir.js';

const ENOSYS = errnoNumber('ENOSYS');

/** io_uring's own lint covers these; the risk lint leaves them out so one problem is reported once. */
export const IO_URING_SYSCALLS: readonly string[] = ['io_uring_setup', 'io_uring_enter', 'io_uring_register'];

const SEVERITY_OF_RISK: Readonly<Record<RiskLevel, Severity>> = {
  critical: 'error',
  high: 'warning',
  medium: 'info',
};

/** "by the rule for ptrace (allow)" or "by defaultAction allow", for messages. */
function decidedBy(outcome: Outcome): string {
  return outcome.rule === undefined
    ? `by defaultAction ${actionText(outcome.action)}`
    : `by the rule for ${selectorsText(outcome.rule)} (${actionText(outcome.action)})`;
}

/** ", for some argument values" when the syscall gets through only under conditions. */
function partlyNote(policy: ResolvedPolicy, name: string): string {
  return exposureOf(policy, name) === 'partly' ? ' for some argument values' : '';
}

/** dangerous-syscall-allowed: every risk-catalogue syscall that some outcome lets through. */
export function lintDangerousSyscalls(policy: ResolvedPolicy): Finding[] {
  const findings: Finding[] = [];
  for (const [name, risk] of Object.entries(RISK_CATALOGUE)) {
    if (IO_URING_SYSCALLS.includes(name) || abisWith(policy, name).length === 0) continue;
    const through = firstLettingThrough(policy, name);
    if (through === undefined) continue;
    findings.push(
      finding('dangerous-syscall-allowed', {
        rule: through.rule,
        syscall: name,
        severity: SEVERITY_OF_RISK[risk.level],
        message: `${name} (${risk.level} risk, ${risk.category}) is allowed${partlyNote(policy, name)} ${decidedBy(through)}`,
        reason: risk.reason,
      }),
    );
  }
  return findings;
}

/** io-uring-allowed: each io_uring syscall some outcome lets through. */
export function lintIoUring(policy: ResolvedPolicy): Finding[] {
  return IO_URING_SYSCALLS.flatMap((name) => {
    const through = abisWith(policy, name).length === 0 ? undefined : firstLettingThrough(policy, name);
    if (through === undefined) return [];
    return [
      finding('io-uring-allowed', {
        rule: through.rule,
        syscall: name,
        message: `${name} is allowed${partlyNote(policy, name)} ${decidedBy(through)}`,
      }),
    ];
  });
}

/** One hole: an explicit rule restricts `restricted`, but `open` members of its class get through on `abis`. */
interface Hole {
  readonly restricted: string;
  readonly rule: PolicyRule;
  readonly open: Set<string>;
  readonly abis: Arch[];
}

/**
 * A rule answering ENOSYS steers callers to an equivalent ("not implemented, use the older call": what a
 * policy does to clone3 so libc falls back to clone, whose flags a filter can check); it restricts nothing.
 */
function isEnosysFallback(rule: PolicyRule): boolean {
  return rule.action.kind === 'errno' && rule.action.errno === ENOSYS;
}

/**
 * The holes of one class: on each ABI, a member an explicit rule restricts while another member
 * existing there is allowed whatever its arguments. A member itself narrowed by arguments is taken as
 * deliberate (Docker's clone with a CLONE_NEWUSER mask), not as a hole.
 */
function holesOf(policy: ResolvedPolicy, cls: EquivalenceClass): Hole[] {
  const holes = new Map<string, Hole>();
  for (const abi of policy.architectures) {
    const members = cls.syscalls.filter((name) => abisWith(policy, name).includes(abi));
    const open = members.filter((name) => exposureOf(policy, name) === 'allowed');
    if (open.length === 0) continue;
    for (const restricted of members) {
      const rule = restrictingRule(policy, restricted);
      if (rule === undefined || isEnosysFallback(rule)) continue;
      const hole = holes.get(restricted) ?? { restricted, rule, open: new Set<string>(), abis: [] };
      open.forEach((name) => hole.open.add(name));
      hole.abis.push(abi);
      holes.set(restricted, hole);
    }
  }
  return [...holes.values()];
}

/** equivalent-syscall-hole, from the equivalence (not mere tolerance) classes. */
export function lintEquivalenceHoles(policy: ResolvedPolicy): Finding[] {
  return EQUIVALENCE_CLASSES.filter((cls) => !cls.tolerance).flatMap((cls) =>
    holesOf(policy, cls).map((hole) => {
      const open = [...hole.open].sort().join(', ');
      return finding('equivalent-syscall-hole', {
        rule: hole.rule,
        syscall: hole.restricted,
        message: `${hole.restricted} is restricted (${actionText(hole.rule.action)}) but ${open} is allowed (${hole.abis.join(', ')}): ${cls.note}`,
      });
    }),
  );
}

/** Syscalls the kernel and libc issue on every signal return, restart and exit; see the catalogue entry. */
export const ESSENTIAL_SYSCALLS: readonly string[] = [
  'rt_sigreturn',
  'sigreturn',
  'restart_syscall',
  'exit',
  'exit_group',
];

/** essential-syscall-denied: one finding naming every essential syscall some outcome does not let through. */
export function lintEssentialSyscalls(policy: ResolvedPolicy): Finding[] {
  const stopped = ESSENTIAL_SYSCALLS.flatMap((name) => {
    if (abisWith(policy, name).length === 0) return [];
    const outcome = outcomesFor(policy, name).find((candidate) => !letsThrough(candidate.action));
    return outcome === undefined ? [] : [{ name, outcome }];
  });
  const first = stopped[0];
  if (first === undefined) return [];
  const list = stopped.map(({ name, outcome }) => `${name} (${decidedBy(outcome)})`).join(', ');
  return [
    finding('essential-syscall-denied', {
      rule: first.outcome.rule,
      syscall: first.name,
      message: `not allowed: ${list}`,
    }),
  ];
}

/** vdso-restricted: reachable rules that deny (or trap, or kill) a syscall the vDSO serves. */
export function lintVdsoRestrictions(policy: ResolvedPolicy): Finding[] {
  const findings: Finding[] = [];
  for (const rule of policy.rules) {
    const restricted = VDSO_SYSCALLS.filter(
      (name) =>
        rule.syscalls.includes(name) &&
        !letsThrough(rule.action) &&
        abisWith(policy, name).length > 0 &&
        outcomesFor(policy, name).some((outcome) => outcome.rule === rule),
    );
    if (restricted.length === 0) continue;
    findings.push(
      finding('vdso-restricted', {
        rule,
        syscall: restricted[0],
        message: `rule ${actionText(rule.action)} for ${restricted.join(', ')} does not stop calls the vDSO answers`,
      }),
    );
  }
  return findings;
}

/**
 * True when the policy lets the multiplexer through for sub-call selector `call` (other arguments 0) on
 * one of `abis`, decided by the reference evaluator so 32-bit ABI argument rules apply as they do there.
 */
function multiplexerLetsThrough(
  policy: ResolvedPolicy,
  mux: Multiplexer,
  call: number,
  abis: readonly Arch[],
): boolean {
  const args = [BigInt(call), 0n, 0n, 0n, 0n, 0n];
  return abis.some((abi) => {
    const nr = syscallNumber(abi, mux.syscall);
    return nr !== undefined && letsThrough(decide(policy, abi, nr, args).action);
  });
}

/** multiplexer-hole (a restricted direct call reachable through the multiplexer) and multiplexer-allowed. */
export function lintMultiplexers(policy: ResolvedPolicy): Finding[] {
  return MULTIPLEXERS.flatMap((mux) => {
    const abis = policy.architectures.filter((abi) => mux.arches.includes(abi));
    if (abis.length === 0) return [];
    const reachable = mux.calls.filter(({ call }) => multiplexerLetsThrough(policy, mux, call, abis));
    if (reachable.length === 0) return [];
    const rule = firstLettingThrough(policy, mux.syscall)?.rule;
    // As with equivalence holes, only calls an explicit rule restricts count as holes; the rest of
    // what the multiplexer reaches is what multiplexer-allowed warns about.
    const holes = reachable
      .map(({ syscall }) => syscall)
      .filter(
        (name) =>
          abisWith(policy, name).some((abi) => abis.includes(abi)) &&
          restrictingRule(policy, name) !== undefined,
      );
    if (holes.length > 0) {
      return [
        finding('multiplexer-hole', {
          rule,
          syscall: mux.syscall,
          message: `${mux.syscall} is allowed (${abis.join(', ')}) while ${holes.join(', ')} is denied or restricted: ${mux.note}`,
        }),
      ];
    }
    return [
      finding('multiplexer-allowed', {
        rule,
        syscall: mux.syscall,
        message: `${mux.syscall} is allowed (${abis.join(', ')}): ${mux.note}`,
      }),
    ];
  });
}
