/**
 * The lint catalogue: every check `sysfence check` runs, under a stable id, with its severity, why it
 * matters and how to fix it. The ids are an interface (CI suppressions, SARIF rule ids, docs/lint.md):
 * never rename one, only add. The checks themselves live in lint-*.ts and build findings through `finding`.
 */
import type { PolicyRule, SourceLocation } from './ir.js';

export type Severity = 'error' | 'warning' | 'info';

/** Most severe first; `severityRank` orders findings and implements --fail-on. */
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** 0 for error, 1 for warning, 2 for info: lower is more severe. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export interface LintInfo {
  readonly id: string;
  /** The severity findings get; `dangerous-syscall-allowed` scales it by the syscall's risk (see severityNote). */
  readonly severity: Severity;
  readonly severityNote?: string;
  /** One line: what the check looks for. */
  readonly title: string;
  readonly reason: string;
  readonly fix: string;
}

export const LINT_CATALOGUE = [
  {
    id: 'dangerous-syscall-allowed',
    severity: 'error',
    severityNote: 'error for critical risk, warning for high, info for medium',
    title: 'A syscall from the risk catalogue is allowed (or only logged)',
    reason:
      'these syscalls are the usual first step of a container escape or kernel exploit; log lets the call run too',
    fix: 'deny it (errno or kill_process) unless the workload provably needs it, and then narrow it by arguments',
  },
  {
    id: 'io-uring-allowed',
    severity: 'error',
    title: 'io_uring is allowed',
    reason:
      'operations submitted through an io_uring ring (openat, connect, accept, ...) run in the kernel without passing the seccomp filter, so they bypass every rule for those syscalls',
    fix: 'deny io_uring_setup, io_uring_enter and io_uring_register (errno(ENOSYS) lets runtimes fall back to epoll)',
  },
  {
    id: 'equivalent-syscall-hole',
    severity: 'error',
    title: 'A syscall is denied while an equivalent one is allowed',
    reason:
      'syscalls in one equivalence class do the same thing (execve/execveat, open/openat/openat2, ...); denying one while allowing another only changes which one an attacker calls',
    fix: 'give every member of the class the same decision (deny them all, or narrow them all by arguments)',
  },
  {
    id: 'vdso-restricted',
    severity: 'warning',
    title: 'A rule restricts a syscall the vDSO serves',
    reason:
      'clock_gettime, gettimeofday, time and getcpu are answered by the vDSO in user space without entering the kernel, so the rule does not stop them; it only breaks the rare fallback path',
    fix: 'allow these syscalls, or drop the rule; restricting time and CPU queries needs another mechanism',
  },
  {
    id: 'multiplexer-hole',
    severity: 'error',
    title: 'A multiplexed call is denied but its multiplexer (socketcall, ipc) is allowed',
    reason:
      'on ABIs such as i386, socketcall and ipc carry the real call (socket, connect, shmget, ...) in their first argument and its arguments behind a pointer the filter cannot read, so allowing the multiplexer reopens what the per-call rule denied',
    fix: 'deny the multiplexer (modern libcs use the direct syscalls) or stop denying the individual call',
  },
  {
    id: 'multiplexer-allowed',
    severity: 'warning',
    title: 'A multiplexer (socketcall, ipc) is allowed',
    reason:
      'rules on the individual socket and IPC calls, and any argument checks on them, do not apply to calls made through the multiplexer',
    fix: 'deny socketcall and ipc (errno(ENOSYS) makes libc use the direct syscalls) and filter the direct calls',
  },
  {
    id: 'bad-arch-allows',
    severity: 'error',
    title: 'badArchAction lets through syscalls of ABIs the policy does not list',
    reason:
      'a kernel also runs compat ABIs (i386 and x32 on x86_64, arm on aarch64); with badArchAction allow or log, a process using such an entry point bypasses the whole filter',
    fix: 'set badArchAction: kill_process',
  },
  {
    id: 'arch-not-covered',
    severity: 'warning',
    title: 'A compat ABI the kernel runs is neither listed nor killed',
    reason:
      'the compat entry points (int 0x80, x32 numbers, arm compat) are attack surface; refusing them with an errno lets an exploit probe and retry, killing ends the attempt',
    fix: 'set badArchAction: kill_process, or list the ABI if the workload really runs such binaries',
  },
  {
    id: 'arch-compat-listed',
    severity: 'info',
    title: 'The policy lists a compat ABI next to its native one',
    reason:
      'each listed compat ABI is extra attack surface the filter must get right; most services never run 32-bit or x32 binaries',
    fix: 'drop the compat ABI from architectures unless the workload runs such binaries; badArchAction: kill_process then covers it',
  },
  {
    id: 'essential-syscall-denied',
    severity: 'error',
    title: 'A syscall every process needs to return from signals or exit is not allowed',
    reason:
      'the kernel issues rt_sigreturn (sigreturn on 32-bit ABIs) to return from every signal handler and restart_syscall to resume interrupted sleeps, and exit/exit_group end threads and processes: denied, a handled signal or a clean exit becomes a crash or a spinning process',
    fix: 'allow rt_sigreturn, sigreturn, restart_syscall, exit and exit_group unconditionally (they grant nothing an attacker can use)',
  },
  {
    id: 'kill-thread',
    severity: 'warning',
    title: 'kill_thread is used',
    reason:
      'killing one thread leaves the rest of the process running, possibly holding locks or half-updated state: a half-dead process',
    fix: 'use kill_process',
  },
  {
    id: 'unknown-action-not-enosys',
    severity: 'warning',
    title: 'unknownAction is not errno(ENOSYS)',
    reason:
      'syscalls newer than the table are usually probed by libc and runtimes, which fall back to an older call only on ENOSYS; EPERM or a kill breaks them on the next kernel upgrade',
    fix: 'set unknownAction: errno(ENOSYS)',
  },
  {
    id: 'exception-expired',
    severity: 'error',
    title: 'An exception is past its expiry date',
    reason: 'the exception was granted until that date; relying on it longer is an unreviewed permission',
    fix: 'remove the rule, or renew it with a new expiry date and ticket after review',
  },
  {
    id: 'exception-expiring',
    severity: 'info',
    title: 'An exception expires within 14 days',
    reason: 'when it lapses, `check` fails and the rule must be removed or renewed',
    fix: 'plan the removal, or get the renewal reviewed before the date',
  },
  {
    id: 'rule-equals-default',
    severity: 'info',
    title: 'A rule has the default action and changes no decision',
    reason: 'the rule only restates defaultAction; redundant rules make the policy longer to review',
    fix: 'remove the rule (keep its reason as a comment if it documents intent)',
  },
  {
    id: 'rule-shadowed',
    severity: 'warning',
    title: 'A rule can never match: earlier unconditional rules decide all its syscalls',
    reason:
      'first match wins, so this rule is dead code; its author probably expected it to apply (argument checks, a different action)',
    fix: 'move the rule before the rule that shadows it, or delete it',
  },
  {
    id: 'review-overdue',
    severity: 'warning',
    title: 'The policy review is overdue',
    reason: 'workloads change between reviews; an unreviewed policy accumulates unused permissions',
    fix: 'review the policy (`sysfence review`) and update metadata.lastReview',
  },
  {
    id: 'review-date-missing',
    severity: 'warning',
    title: 'metadata.lastReview is missing',
    reason: 'without a review date nobody can tell whether the policy is still reviewed',
    fix: 'add metadata.lastReview: YYYY-MM-DD (and reviewInterval, default 90d)',
  },
  {
    id: 'review-interval-invalid',
    severity: 'error',
    title: 'metadata.reviewInterval cannot be read',
    reason: 'without a readable interval the review due date is unknown',
    fix: 'write the interval as a count of days, weeks, months or years: 90d, 12w, 3m, 1y',
  },
  {
    id: 'owner-missing',
    severity: 'warning',
    title: 'metadata.owner is missing',
    reason: 'a policy without an owner has nobody to review it or to ask when it blocks something',
    fix: 'add metadata.owner: the team responsible for the policy',
  },
] as const satisfies readonly LintInfo[];

export type LintId = (typeof LINT_CATALOGUE)[number]['id'];

/** The catalogue entry of a lint id. */
export function lintInfo(id: LintId): LintInfo {
  const info = LINT_CATALOGUE.find((entry) => entry.id === id);
  if (info === undefined) throw new Error(`lint id '${id}' is not in the catalogue`);
  return info;
}

/** One problem `check` reports: which lint, how bad, what exactly, why it matters and what to do. */
export interface Finding {
  readonly id: LintId;
  readonly severity: Severity;
  readonly message: string;
  readonly reason: string;
  readonly fix: string;
  /** The rule the finding is about (its layer and file:line:col), when there is one. */
  readonly rule?: PolicyRule;
  readonly syscall?: string;
  /** Where to point; the rule's location when there is a rule, else undefined (the policy file as a whole). */
  readonly location?: SourceLocation;
}

/** What a check knows about one finding; the catalogue supplies the rest. */
export interface FindingDetails {
  readonly message: string;
  readonly rule?: PolicyRule;
  readonly syscall?: string;
  /** Overrides the catalogue severity (risk-scaled lints). */
  readonly severity?: Severity;
  /** Overrides the catalogue reason or fix with a more specific one. */
  readonly reason?: string;
  readonly fix?: string;
}

/** Builds a finding of lint `id`, filling severity, reason and fix from the catalogue. */
export function finding(id: LintId, details: FindingDetails): Finding {
  const info = lintInfo(id);
  return {
    id,
    severity: details.severity ?? info.severity,
    message: details.message,
    reason: details.reason ?? info.reason,
    fix: details.fix ?? info.fix,
    ...(details.rule ? { rule: details.rule, location: details.rule.location } : {}),
    ...(details.syscall ? { syscall: details.syscall } : {}),
  };
}
