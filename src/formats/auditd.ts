/**
 * Exporting a policy as Linux audit rules (auditctl -R / /etc/audit/rules.d/): the kernel records every
 * syscall outside the policy's whitelist, plus the calls attackers use to hide or persist (clock changes,
 * ptrace injection, kernel modules), each set under its own key so ausearch -k finds it.
 *
 * How the rules are laid out, and why:
 * - Audit tries exit rules in order and the first match decides, so its key is the one recorded: the
 *   specific rules (time, ptrace, module) come before the catch-all `unlisted` rule.
 * - Every rule is evaluated on every syscall, so the non-whitelisted syscalls of an ABI share one rule
 *   (a rule holds a syscall bitmask; any number of -S fit) unless auditctl's line limit forces a split.
 * - Audit has no "every syscall except": the exclusion trick (`-a never` rules for whitelisted syscalls
 *   before `-S all`) would also silence every rule loaded after it for those syscalls, host-wide. So
 *   the non-whitelisted syscalls are listed.
 * - Syscalls are written as numbers from sysfence's table (names in the comment above each rule):
 *   auditctl refuses names newer than its own table, and numbers mean the same to every version.
 * - x86_64 kernels also run i386 (`arch=b32`) and x32 processes. x32 calls arrive as arch b64 with bit
 *   30 set in the number, beyond the kernel's 2048-bit syscall mask, so no audit syscall rule can match
 *   them: said in a warning, never silently dropped.
 */
import type { ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { ARCH_BITS, kernelAbis, kernelArch, syscallNumber, type Arch } from '../syscalls/arch.js';
import { EQUIVALENCE_CLASSES } from '../syscalls/equivalents.js';
import { abiCoverage, partialRuleWarnings } from './auditd-whitelist.js';
import { commentText } from '../policy/plain-text.js';

export interface AuditRulesOptions {
  /** Key prefix: rules carry `<key>-unlisted`, `-time`, `-ptrace`, `-module`. Default 'sysfence'. */
  readonly key?: string;
  /** Only record calls made by this executable (`-F exe=`); without it the rules cover every process. */
  readonly exe?: string;
  /** The kernel the rules are for; needed only when the policy lists ABIs of several kernels. */
  readonly kernel?: Arch;
}

export interface AuditRulesResult {
  /** The rules file text (trailing newline). */
  readonly text: string;
  readonly warnings: string[];
}

/** The keys a rules file uses, for `auditctl -D -k` and `ausearch -k`. */
export function auditKeys(key = 'sysfence'): readonly string[] {
  return RULE_SETS.map((set) => `${key}-${set}`);
}

const RULE_SETS = ['time', 'ptrace', 'module', 'unlisted'] as const;
type RuleSet = (typeof RULE_SETS)[number];

/**
 * auditctl reads a rules file with a 6144-byte line buffer (LINE_SIZE); auditctl 3.0.9 silently splits
 * a longer line and loads its tail as a rule of its own. Rules are packed well below that.
 */
export const MAX_RULE_LINE = 4000;
const COMMENT_WIDTH = 100;

/** The members of an equivalence class, in catalogue order; a missing class is a programming error. */
function equivalenceClassSyscalls(id: string): readonly string[] {
  const found = EQUIVALENCE_CLASSES.find((item) => item.id === id);
  if (found === undefined) throw new Error(`no equivalence class '${id}' in src/syscalls/equivalents.ts`);
  return found.syscalls;
}

/** The calls that set a host-wide clock: the equivalence catalogue's set-time class, kept in one place. */
const TIME_SYSCALLS = equivalenceClassSyscalls('set-time');
const MODULE_SYSCALLS = ['init_module', 'finit_module', 'delete_module'];

/**
 * ptrace requests that take over a process or write its memory or registers (uapi/linux/ptrace.h;
 * SETREGS is 13 on x86 and arm), the ones the monitor's ptrace-inject rule trips on. Shared with falco.ts.
 */
export const PTRACE_INJECTION: ReadonlyArray<readonly [name: string, request: number]> = [
  ['PTRACE_POKETEXT', 4],
  ['PTRACE_POKEDATA', 5],
  ['PTRACE_POKEUSR', 6],
  ['PTRACE_SETREGS', 13],
  ['PTRACE_ATTACH', 16],
  ['PTRACE_SETREGSET', 0x4205],
  ['PTRACE_SEIZE', 0x4206],
];

const KEY_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;
const EXE_PATTERN = /^\/[^\s"'\\]*$/;

/** One audit rule before packing: ABI, syscalls (undefined = all), extra fields, key. */
interface RuleSpec {
  readonly abi: AuditAbi;
  readonly syscalls?: ReadonlyArray<readonly [name: string, nr: number]>;
  readonly fields: readonly string[];
  readonly set: RuleSet;
  readonly note: string;
}

interface AuditAbi {
  readonly arch: Arch;
  /** auditctl's arch word: b64 / b32 name the kernel's native and compat ABI. */
  readonly word: 'b64' | 'b32';
}

/** Exports audit rules recording syscalls outside the whitelist, clock changes, ptrace injection and module loads. */
export function exportAuditRules(policy: ResolvedPolicy, options: AuditRulesOptions = {}): AuditRulesResult {
  const key = checkKey(options.key ?? 'sysfence');
  const exeField = options.exe === undefined ? [] : [`-F exe=${checkExe(options.exe)}`];
  const kernel = chooseKernel(policy, options.kernel);
  const warnings = kernelWarnings(policy, kernel);
  const abis = auditableAbis(kernel);
  const specs = [
    ...abis.flatMap(timeSpecs),
    ...abis.flatMap(ptraceSpecs),
    ...abis.flatMap(moduleSpecs),
    ...abis.map((abi) => unlistedSpec(policy, abi, key, warnings)),
  ];
  if (options.exe === undefined) {
    warnings.push('no exe given: the rules record these syscalls for every process on the host');
  }
  if (policy.unknownAction.kind !== 'allow') {
    warnings.push(
      "syscall numbers sysfence's table does not name (newer kernels) are not listed; the policy's unknownAction decides them",
    );
  }
  const lines = [...header(policy, kernel, key), ...specs.flatMap((spec) => ruleLines(spec, exeField, key))];
  return { text: `${lines.join('\n')}\n`, warnings };
}

function checkKey(key: string): string {
  if (!KEY_PATTERN.test(key)) {
    throw policyFailure(
      `audit key ${JSON.stringify(key)} must be 1-200 letters, digits, '.', '_' or '-' (audit keys are at most 256 bytes)`,
    );
  }
  return key;
}

function checkExe(exe: string): string {
  if (!EXE_PATTERN.test(exe)) {
    throw policyFailure(
      `exe ${JSON.stringify(exe)} must be an absolute path without spaces, quotes or backslashes (audit rule files cannot quote)`,
    );
  }
  return exe;
}

/** The kernels whose ABIs the policy lists; rules files are loaded into one kernel. */
function chooseKernel(policy: ResolvedPolicy, requested: Arch | undefined): Arch {
  if (requested !== undefined) return kernelArch(requested);
  const candidates = [...new Set(policy.architectures.map(kernelArch))];
  // A compat ABI listed alone (arm) names its own kernel; beside aarch64 it runs on the aarch64 kernel.
  const kernels = candidates.filter(
    (kernel) => !candidates.some((other) => other !== kernel && kernelAbis(other).includes(kernel)),
  );
  const [only] = kernels;
  if (only === undefined) throw policyFailure('the policy lists no architectures');
  if (kernels.length > 1) {
    throw policyFailure(
      `audit rules are loaded into one kernel, and the policy lists ABIs of ${kernels.join(' and ')} kernels`,
      undefined,
      'choose the kernel the rules are for (the `kernel` option)',
    );
  }
  return only;
}

function kernelWarnings(policy: ResolvedPolicy, kernel: Arch): string[] {
  const warnings: string[] = [];
  const elsewhere = policy.architectures.filter((arch) => !kernelAbis(kernel).includes(arch));
  if (elsewhere.length > 0) {
    warnings.push(`ABIs ${elsewhere.join(', ')} run on other kernels than ${kernel}: not in this rules file`);
  }
  if (kernelAbis(kernel).includes('x32')) {
    warnings.push(
      'x32 syscalls cannot be audited: they arrive as arch b64 with bit 30 set in the number, beyond the ' +
        "kernel's syscall mask, so no audit syscall rule matches them (the seccomp filter still decides them)",
    );
  }
  return warnings;
}

function auditableAbis(kernel: Arch): AuditAbi[] {
  return kernelAbis(kernel)
    .filter((arch) => arch !== 'x32')
    .map((arch) => ({ arch, word: ARCH_BITS[arch] === 64 ? 'b64' : 'b32' }));
}

/** The syscalls of `names` the ABI has, with their numbers. */
function present(abi: AuditAbi, names: readonly string[]): Array<readonly [string, number]> {
  return names.flatMap((name) => {
    const nr = syscallNumber(abi.arch, name);
    return nr === undefined ? [] : [[name, nr] as const];
  });
}

function timeSpecs(abi: AuditAbi): RuleSpec[] {
  const syscalls = present(abi, TIME_SYSCALLS);
  return syscalls.length === 0 ? [] : [{ abi, syscalls, fields: [], set: 'time', note: 'clock changes' }];
}

function moduleSpecs(abi: AuditAbi): RuleSpec[] {
  const syscalls = present(abi, MODULE_SYSCALLS);
  return syscalls.length === 0
    ? []
    : [{ abi, syscalls, fields: [], set: 'module', note: 'kernel module load and unload' }];
}

/** One rule per request: the fields of one audit rule are ANDed, there is no OR. */
function ptraceSpecs(abi: AuditAbi): RuleSpec[] {
  const syscalls = present(abi, ['ptrace']);
  if (syscalls.length === 0) return [];
  return PTRACE_INJECTION.map(([name, request]) => ({
    abi,
    syscalls,
    fields: [`-F a0=0x${request.toString(16).toUpperCase()}`],
    set: 'ptrace' as const,
    note: `ptrace ${name}`,
  }));
}

function unlistedSpec(policy: ResolvedPolicy, abi: AuditAbi, key: string, warnings: string[]): RuleSpec {
  const note = `syscalls outside the whitelist of policy '${commentText(policy.name, 80)}'`;
  if (!policy.architectures.includes(abi.arch)) {
    warnings.push(
      `${abi.arch} (arch=${abi.word}) is not in the policy's architectures: every ${abi.arch} syscall is recorded (-S all)`,
    );
    return { abi, fields: [], set: 'unlisted', note: `${note} (the policy does not list ${abi.arch})` };
  }
  const coverage = abiCoverage(policy, abi.arch);
  warnings.push(
    ...partialRuleWarnings(
      coverage,
      `under ${key}-unlisted (audit cannot compare arguments as seccomp does; recording more is the safe side)`,
    ),
  );
  return { abi, syscalls: coverage.outside, fields: [], set: 'unlisted', note };
}

function header(policy: ResolvedPolicy, kernel: Arch, key: string): string[] {
  const layers = policy.layers.map((layer) => layer.name).join(' <- ');
  return [
    `## Audit rules exported by sysfence from policy '${commentText(policy.name, 80)}' (layers: ${commentText(layers, 80)}), for ${kernel} kernels.`,
    '## Load: auditctl -R FILE (or copy into /etc/audit/rules.d/). Remove:',
    `##   ${auditKeys(key)
      .map((name) => `auditctl -D -k ${name}`)
      .join('; ')}`,
    '## Syscalls are numbers of each ABI; the comment above a rule names them. Audit records the key of',
    '## the first matching rule, so the specific rules come before the catch-all.',
  ];
}

/** The rule(s) for a spec, each preceded by comment lines naming its syscalls. */
function ruleLines(spec: RuleSpec, exeField: readonly string[], key: string): string[] {
  const prefix = `-a always,exit -F arch=${spec.abi.word} -S `;
  const suffix = [...spec.fields, ...exeField, `-k ${key}-${spec.set}`].join(' ');
  const intro = `## ${key}-${spec.set}, ${spec.abi.arch}: ${spec.note}`;
  if (spec.syscalls === undefined) return ['', intro, `${prefix}all ${suffix}`];
  const room = MAX_RULE_LINE - prefix.length - suffix.length - 1;
  if (room < 16) throw policyFailure(`exe path is too long for an audit rule line`);
  return [
    '',
    intro,
    ...packed(spec.syscalls, room).flatMap((chunk) => [
      ...wrapComment(chunk.map(([name]) => name)),
      `${prefix}${chunk.map(([, nr]) => nr).join(',')} ${suffix}`,
    ]),
  ];
}

/** Splits syscalls into chunks whose comma-joined numbers fit in `room` characters. */
function packed(
  syscalls: ReadonlyArray<readonly [string, number]>,
  room: number,
): Array<Array<readonly [string, number]>> {
  const chunks: Array<Array<readonly [string, number]>> = [];
  let current: Array<readonly [string, number]> = [];
  let length = 0;
  for (const entry of syscalls) {
    const width = String(entry[1]).length + (current.length === 0 ? 0 : 1);
    if (current.length > 0 && length + width > room) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    length += current.length === 0 ? String(entry[1]).length : width;
    current.push(entry);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** `## name name ...` lines of at most COMMENT_WIDTH characters (long comment lines are split by auditctl too). */
function wrapComment(names: readonly string[]): string[] {
  const lines: string[] = [];
  let line = '##';
  for (const name of names) {
    if (line.length + 1 + name.length > COMMENT_WIDTH && line !== '##') {
      lines.push(line);
      line = '##';
    }
    line += ` ${name}`;
  }
  if (line !== '##') lines.push(line);
  return lines;
}
