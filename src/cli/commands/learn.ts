/**
 * `sysfence learn`: traces → a least-privilege policy, and after a log-mode rollout, the audit log →
 * the rules the current policy is missing (a reviewable diff and YAML snippet), or a whole policy.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { generatePolicy, type GenerateOptions, type GeneratedPolicy } from '../../learn/generate.js';
import { proposeAdditions, enabledCalls, selectEvents, type EventSelection } from '../../learn/rollout.js';
import { proposalPatch, proposalSnippet } from '../../learn/rollout-text.js';
import { mergeTraces, readTrace, traceFromEvents, type Trace } from '../../learn/trace.js';
import { callsNotAllowed } from '../../learn/verify.js';
import { parseSince } from '../../learn/window.js';
import { parseActionText } from '../../policy/action-text.js';
import type { Action } from '../../policy/action.js';
import { loadPolicy, parsePolicyText } from '../../policy/load.js';
import { readAuditLog } from '../../sources/audit.js';
import type { SourceStats, SyscallEvent } from '../../sources/event.js';
import { ARCHES, parseArch, type Arch } from '../../syscalls/arch.js';
import { hasFlag, optionValue, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';

const USAGE = `usage: sysfence learn TRACE... [-o POLICY] [--name NAME] [--tolerance 15%] [--exe PATH]
                      [--container ID] [--arch ABI,...] [--default-action errno:EPERM|kill_process]
       sysfence learn --from-audit FILE [--policy CURRENT] [--since 14d] [--exe PATH] [--container ID]
                      [-o OUT] [--name NAME] [--tolerance 15%] [--default-action ...]

From trace files (sysfence-trace/1 JSON, merged; each file counts its runs), writes a least-privilege
policy: observed syscalls allowed (socket, ioctl, clone, prctl, personality narrowed to the argument
values seen), everything else the default action, unknown numbers errno(ENOSYS), other ABIs killed.
  -o POLICY            write the policy here (default: stdout)
  --name NAME          the policy name (default: learned)
  --tolerance P        add unobserved low-risk variants (openat for open, ...) as tier 'tolerated'
                       rules with action log, at most P of the allowed set (15% or 0.15; default 0)
  --exe PATH           learn only from calls of this executable
  --container ID       learn only from calls of this container (full id or a 12+ character prefix)
  --arch ABI,...       write the policy for these ABIs only (default: the ABIs the trace saw)
  --default-action A   errno:EPERM (default), errno:NAME or kill_process

With --from-audit (after \`sysfence run --mode log\`): reads the audit log (SECCOMP and SYSCALL records).
  --policy CURRENT     propose what CURRENT does not allow: a unified diff appending rules to CURRENT's
                       file (stdout), then the same rules as a YAML snippet; risky calls, explicitly
                       denied calls and unlisted ABIs are proposed commented out, for review.
                       -o OUT writes the patched file. Exit 1 when additions are proposed, 0 when none.
                       Without --policy: writes a whole policy learned from the log.
  --since WINDOW       only events of the last 36h / 14d / 2w, or since a date (YYYY-MM-DD)
`;

function parseTolerance(text: string | undefined): number {
  if (text === undefined) return 0;
  const percent = /^(\d{1,3}(?:\.\d+)?)%$/.exec(text);
  const share =
    percent === null
      ? /^(?:0|1)(?:\.\d+)?$/.test(text)
        ? Number(text)
        : Number.NaN
      : Number(percent[1]) / 100;
  if (!(share >= 0 && share <= 1))
    throw new UsageError(`--tolerance needs a share such as 15% or 0.15, got '${text}'`);
  return share;
}

function parseDefaultAction(text: string | undefined): Action | undefined {
  if (text === undefined) return undefined;
  const errno = /^errno:([A-Za-z0-9_]+)$/.exec(text);
  try {
    return parseActionText(errno === null ? text : `errno(${errno[1]})`);
  } catch {
    throw new UsageError(`--default-action needs errno:NAME or kill_process, got '${text}'`);
  }
}

function parseArchList(text: string | undefined): Arch[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((name) => {
    const arch = parseArch(name.trim());
    if (arch === undefined)
      throw new UsageError(`unknown architecture '${name}' (known: ${ARCHES.join(', ')})`);
    return arch;
  });
}

function generateOptions(args: ParsedArgs): GenerateOptions {
  const arch = parseArchList(optionValue(args, 'arch'));
  const defaultAction = parseDefaultAction(optionValue(args, 'default-action'));
  const exe = optionValue(args, 'exe');
  const container = optionValue(args, 'container');
  return {
    name: optionValue(args, 'name') ?? 'learned',
    tolerance: parseTolerance(optionValue(args, 'tolerance')),
    ...(arch === undefined ? {} : { arch }),
    ...(defaultAction === undefined ? {} : { defaultAction }),
    ...(exe === undefined ? {} : { exe }),
    ...(container === undefined ? {} : { container }),
  };
}

async function writeOutput(args: ParsedArgs, text: string, io: CommandIO): Promise<void> {
  const out = optionValue(args, 'output');
  if (out === undefined) io.stdout(text);
  else await writeFile(out, text);
}

/** Parses the generated text as a policy and checks it allows everything it was learned from. */
async function checkGenerated(generated: GeneratedPolicy, file: string): Promise<void> {
  const policy = await parsePolicyText(generated.text, file);
  const missing = callsNotAllowed(policy, generated.observed);
  if (missing.length > 0)
    throw new Error(`the generated policy does not allow observed calls: ${missing.join('; ')}`);
}

async function learnPolicy(trace: Trace, args: ParsedArgs, io: CommandIO): Promise<number> {
  const generated = generatePolicy(trace, generateOptions(args));
  await checkGenerated(generated, optionValue(args, 'output') ?? '<generated>');
  await writeOutput(args, generated.text, io);
  io.stderr(
    `sysfence learn: ${generated.allowed.length} syscall(s) allowed, ${generated.tolerated.length} tolerated, from ${trace.runs} run(s) on ${generated.architectures.join(', ')}\n`,
  );
  if (generated.unnameable.length > 0)
    io.stderr(`  not nameable (left to unknownAction): ${generated.unnameable.join(', ')}\n`);
  return 0;
}

function reportStats(file: string, stats: SourceStats, io: CommandIO): void {
  io.stderr(
    `${file}: ${stats.records} line(s), ${stats.events} event(s), ${stats.malformed} malformed, ${stats.lost} lost\n`,
  );
  for (const problem of stats.problems) io.stderr(`  ${problem.where}: ${problem.reason}\n`);
  if (stats.malformed > stats.problems.length)
    io.stderr(`  ... and ${stats.malformed - stats.problems.length} more\n`);
}

function eventSelection(args: ParsedArgs): EventSelection {
  const since = optionValue(args, 'since');
  const exe = optionValue(args, 'exe');
  const container = optionValue(args, 'container');
  return {
    ...(since === undefined ? {} : { since: parseSince(since, Date.now()) }),
    ...(exe === undefined ? {} : { exe }),
    ...(container === undefined ? {} : { container }),
  };
}

async function rollout(
  policyPath: string,
  events: readonly SyscallEvent[],
  args: ParsedArgs,
  io: CommandIO,
): Promise<number> {
  const policy = await loadPolicy(policyPath);
  const proposal = proposeAdditions(events, policy, eventSelection(args));
  if (proposal.additions.length === 0) {
    io.stderr(
      `sysfence learn: policy ${policy.name} allows all ${proposal.considered} selected call(s); nothing to add\n`,
    );
    return 0;
  }
  const layerFile = policy.layers[0]?.file ?? policyPath;
  const patch = proposalPatch(proposal, await readFile(layerFile, 'utf8'), layerFile);
  const patched = await parsePolicyText(patch.patched, layerFile);
  const stillDenied = callsNotAllowed(patched, enabledCalls(proposal));
  io.stdout(`${patch.diff}\n# The same rules as a YAML snippet:\n${proposalSnippet(proposal)}`);
  const out = optionValue(args, 'output');
  if (out !== undefined) await writeFile(out, patch.patched);
  for (const problem of stillDenied) {
    io.stderr(
      `sysfence learn: warning: still not allowed after the patch (an earlier rule decides it): ${problem}\n`,
    );
  }
  io.stderr(`sysfence learn: ${proposal.additions.length} syscall(s) proposed for ${layerFile}\n`);
  return 1;
}

async function fromAudit(file: string, args: ParsedArgs, io: CommandIO): Promise<number> {
  const { events, stats } = await readAuditLog(file, { file, unauthenticatedForms: true });
  reportStats(file, stats, io);
  const policyPath = optionValue(args, 'policy');
  if (policyPath !== undefined) return rollout(policyPath, events, args, io);
  return learnPolicy(traceFromEvents(selectEvents(events, eventSelection(args))), args, io);
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const audit = optionValue(args, 'from-audit');
  if (audit !== undefined) {
    if (args.positionals.length > 0)
      throw new UsageError('give either TRACE files or --from-audit FILE, not both');
    return fromAudit(audit, args, io);
  }
  for (const option of ['policy', 'since']) {
    if (hasFlag(args, option)) throw new UsageError(`--${option} needs --from-audit`);
  }
  if (args.positionals.length === 0) throw new UsageError('missing TRACE file(s) or --from-audit FILE');
  const traces = await Promise.all(args.positionals.map((path) => readTrace(path)));
  return learnPolicy(mergeTraces(traces), args, io);
}

export const learnCommand: Command = {
  name: 'learn',
  summary: 'learn a least-privilege policy from traces, or missing rules from a log-mode audit log',
  usage: USAGE,
  options: [
    { name: 'output', short: 'o', value: true },
    { name: 'name', value: true },
    { name: 'tolerance', value: true },
    { name: 'exe', value: true },
    { name: 'container', value: true },
    { name: 'arch', value: true },
    { name: 'default-action', value: true },
    { name: 'from-audit', value: true },
    { name: 'policy', value: true },
    { name: 'since', value: true },
  ],
  run,
};
