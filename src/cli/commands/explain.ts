/** `sysfence explain POLICY SYSCALL [ARG0 ... ARG5] [--arch ARCH]`: why the policy decides what it does. */
import type { Arch } from '../../syscalls/arch.js';
import { errnoName } from '../../syscalls/errno.js';
import { formatAction, type Action } from '../../policy/action.js';
import {
  describeCondition,
  explainSyscall,
  type Explanation,
  type RuleExplanation,
} from '../../policy/explain.js';
import type { PolicyRule, ResolvedPolicy, SourceLocation } from '../../policy/ir.js';
import { loadAnyPolicy } from '../../formats/load.js';
import { formatValue } from '../../policy/values.js';
import { archOption } from '../arch-option.js';
import { requirePositional, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { POLICY_LOAD_OPTIONS, POLICY_LOAD_USAGE, policyLoadOptions } from '../load-options.js';
import { parseArgumentOperands, parseSyscallOperand } from '../syscall-operands.js';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'show which rule of which layer decides a syscall, and why other rules did not',
  usage: `usage: sysfence explain POLICY SYSCALL [ARG0 ... ARG5] [--arch ARCH]

  SYSCALL  a name (openat) or a number on ARCH
  ARGn     argument values as in policies: 42, 0x2a, -1, AF_INET, O_RDONLY|O_CLOEXEC (missing ones are 0)
  --arch   the ABI (default: the policy's first architecture)
POLICY may be any format sysfence reads (sysfence YAML, OCI JSON, SPO, systemd, Firecracker).
${POLICY_LOAD_USAGE}`,
  options: POLICY_LOAD_OPTIONS,
  run: runExplain,
};

async function runExplain(args: ParsedArgs, io: CommandIO): Promise<number> {
  const policyFile = requirePositional(args, 0, 'POLICY');
  const syscallText = requirePositional(args, 1, 'SYSCALL');
  const syscallArgs = parseArgumentOperands(args.positionals.slice(2));
  const { policy, warnings } = await loadAnyPolicy(policyFile, policyLoadOptions(args));
  for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
  const arch = chooseArch(policy, args);
  const nr = parseSyscallOperand(syscallText, arch);
  io.stdout(formatExplanation(policy, explainSyscall(policy, arch, nr, syscallArgs)));
  return 0;
}

function chooseArch(policy: ResolvedPolicy, args: ParsedArgs): Arch {
  return archOption(args) ?? (policy.architectures[0] as Arch);
}

function formatExplanation(policy: ResolvedPolicy, explanation: Explanation): string {
  const name = explanation.syscall ?? 'unnamed syscall';
  const args = explanation.args.map(formatValue).join(', ');
  const lines = [
    `policy ${policy.name}, ${explanation.arch}: ${name} (${explanation.nr}) args [${args}]`,
    `decision: ${action(explanation.decision.action)}`,
    ...decisionLines(policy, explanation, name),
  ];
  const others = explanation.rules.filter((entry) => entry.verdict.kind !== 'decided');
  if (others.length > 0) {
    lines.push(`other rules for ${name}:`);
    for (const entry of others) lines.push(...otherRuleLines(entry));
  }
  return `${lines.join('\n')}\n`;
}

/** What made the decision: a rule (with its reason) or one of the policy-wide actions. */
function decisionLines(policy: ResolvedPolicy, explanation: Explanation, name: string): readonly string[] {
  const { decision, arch, nr } = explanation;
  switch (decision.decidedBy) {
    case 'badArch':
      return [
        `decided by badArchAction: ${arch} is not one of the policy's architectures (${policy.architectures.join(', ')})`,
      ];
    case 'unknown':
      return [`decided by unknownAction: ${arch}'s syscall table does not name number ${nr}`];
    case 'default':
      return [`decided by defaultAction: no rule for ${name} matched`];
    case 'rule':
      if (decision.rule === undefined || decision.ruleIndex === undefined) return ['decided by a rule'];
      return [
        `decided by ${ruleTitle(decision.rule, decision.ruleIndex)}`,
        `  reason: ${decision.rule.reason}`,
      ];
  }
}

function otherRuleLines(entry: RuleExplanation): readonly string[] {
  const title = `  ${ruleTitle(entry.rule, entry.index)}`;
  if (entry.verdict.kind === 'shadowed') {
    return [title, '    shadowed: it matches too, but an earlier rule decided first'];
  }
  if (entry.verdict.kind === 'decided') return [title];
  const failures = entry.verdict.failures.map(
    (failure) =>
      `    did not match: ${describeCondition(failure.condition)} is false (arg${failure.condition.index} is ${formatValue(failure.seen)})`,
  );
  return [title, ...failures];
}

function ruleTitle(rule: PolicyRule, index: number): string {
  return `rule ${index + 1} (${action(rule.action)} [${rule.selectors.join(', ')}]) of layer ${rule.layer} at ${where(rule.location)}`;
}

function where(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

function action(value: Action): string {
  return formatAction(value, errnoName);
}
