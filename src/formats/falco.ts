/**
 * Exporting Falco rules: the sysfence monitor's built-in rules as Falco rules, plus one rule for syscalls
 * outside the policy's whitelist, for sites that run Falco instead of (or beside) `sysfence monitor`.
 *
 * Falco rules are stateless filters over single events: nothing that counts over time (rate-breaker,
 * spawn-burst) or learns (baseline-deviation) can be written, and a sequence ("wrote a file, then ran
 * it") becomes a property of the one event (the executable lives in a world-writable directory or a new
 * container layer). Every such gap is a warning naming the rule; nothing is exported that claims more
 * than it checks. Macros and lists carry a `sysfence_` prefix so loading beside falco_rules.yaml
 * never replaces Falco's own `spawned_process` & co.
 *
 * The monitor lives above formats in the dependency order, so its rule ids and default name lists are
 * restated here; test/formats/falco.test.ts checks they are equal to the monitor's.
 */
import { Document, isSeq, visit } from 'yaml';
import {
  BUILTIN_RULE_IDS,
  INTERPRETER_NAMES,
  SERVER_NAMES,
  TIME_DAEMONS,
  WRITABLE_DIRS,
} from '../syscalls/detection-defaults.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { kernelAbis, kernelArch, type Arch } from '../syscalls/arch.js';
import { PTRACE_INJECTION } from './auditd.js';
import { abiCoverage, partialRuleWarnings } from './auditd-whitelist.js';

export interface FalcoOptions {
  /** Executables the policy confines (proc.exepath): the unlisted-syscall rule fires only for them. */
  readonly exe?: readonly string[];
  /** Container image repositories the policy confines (container.image.repository), likewise. */
  readonly containerImages?: readonly string[];
}

export interface FalcoExportResult {
  /** The Falco rules file (YAML, trailing newline). */
  readonly text: string;
  readonly warnings: string[];
}

export type FalcoPriority = 'CRITICAL' | 'ERROR' | 'WARNING';

interface FalcoList {
  readonly list: string;
  readonly items: readonly string[];
}
interface FalcoMacro {
  readonly macro: string;
  readonly condition: string;
}
interface FalcoRule {
  readonly rule: string;
  readonly desc: string;
  readonly condition: string;
  readonly output: string;
  readonly priority: FalcoPriority;
  readonly tags: readonly string[];
}
type FalcoItem = FalcoList | FalcoMacro | FalcoRule;

/** The monitor's built-in rule ids. */
export const MONITOR_RULE_IDS = BUILTIN_RULE_IDS;

/** The id (tag) of the rule for syscalls outside the whitelist. */
export const UNLISTED_RULE_ID = 'unlisted-syscall';

/** Defaults of the monitor's rules (src/syscalls/detection-defaults.ts); a trailing '*' matches a prefix. */
export const MONITOR_DEFAULTS = {
  writableDirs: WRITABLE_DIRS,
  servers: SERVER_NAMES,
  interpreters: INTERPRETER_NAMES,
  timeDaemons: TIME_DAEMONS,
} as const;

/** Severity → priority as the monitor's defaults have them: critical → CRITICAL, high → ERROR. */
export const FALCO_PRIORITY = {
  'dropper-exec': 'CRITICAL',
  'vfork-exec': 'CRITICAL',
  'ptrace-inject': 'CRITICAL',
  'time-tamper': 'ERROR',
  [UNLISTED_RULE_ID]: 'WARNING',
} as const satisfies Readonly<Record<string, FalcoPriority>>;

const NOT_EXPORTED: ReadonlyArray<readonly [id: string, why: string]> = [
  [
    'rate-breaker',
    'Falco rules cannot count events over time; the unlisted-syscall rule alerts on every such call ' +
      'instead (count its alerts per process in Falcosidekick or the SIEM)',
  ],
  ['baseline-deviation', 'Falco rules cannot learn per-executable baselines or compare against them'],
  [
    'spawn-burst',
    'Falco rules cannot count execve calls per process tree over a window (no state between events)',
  ],
];

/** Characters that would break out of a Falco list item, a condition value or an output format. */
const SAFE_VALUE = /^[A-Za-z0-9_./+@:-]+$/;
const PROCESS_CONTEXT =
  'proc.exepath=%proc.exepath pid=%proc.pid cmdline=%proc.cmdline parent=%proc.pname ' +
  'user=%user.name container=%container.id image=%container.image.repository';

/** Exports Falco rules equivalent to the monitor's built-in rules plus one for syscalls outside the whitelist. */
export function exportFalcoRules(policy: ResolvedPolicy, options: FalcoOptions = {}): FalcoExportResult {
  const warnings = NOT_EXPORTED.map(([id, why]) => `${id}: not exported: ${why}`);
  const items: FalcoItem[] = [
    {
      macro: 'sysfence_spawned_process',
      condition: '(evt.type in (execve, execveat) and evt.dir=< and evt.res=SUCCESS)',
    },
    ...unlistedItems(policy, options, warnings),
    ...dropperExecItems(warnings),
    ...vforkExecItems(),
    ...ptraceInjectItems(),
    ...timeTamperItems(warnings),
  ];
  const header = [
    `# Falco rules exported by sysfence from policy '${plainName(policy.name)}'.`,
    '# Tags carry `sysfence` and the monitor rule id. Checked by sysfence for structure and field names',
    '# (Falco field list of falco --list=syscall); load it with falco -r to validate against your Falco.',
  ];
  return { text: `${header.join('\n')}\n${toYaml(items)}`, warnings };
}

/** The items as YAML; short `items` and `tags` as one-line flow sequences, as Falco's own rules files write them. */
function toYaml(items: readonly FalcoItem[]): string {
  const document = new Document(items);
  visit(document, {
    Seq(_key, node) {
      if (node !== document.contents && isSeq(node)) node.flow = String(node.toJSON()).length < 80;
    },
  });
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A policy name where Falco reads text: only plain characters, since `%` starts a field in outputs. */
function plainName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function checkValues(values: readonly string[], what: string): readonly string[] {
  for (const value of values) {
    if (!SAFE_VALUE.test(value)) {
      throw policyFailure(
        `${what} ${JSON.stringify(value)} cannot be a Falco list item (spaces, quotes, parentheses, commas and % would change the condition)`,
      );
    }
  }
  return values;
}

function tags(id: string): string[] {
  return ['sysfence', id];
}

function unlistedItems(policy: ResolvedPolicy, options: FalcoOptions, warnings: string[]): FalcoItem[] {
  const names = new Set<string>();
  for (const arch of nativeAbis(policy)) {
    const coverage = abiCoverage(policy, arch);
    for (const [name] of coverage.outside) names.add(name);
    warnings.push(
      ...partialRuleWarnings(
        coverage,
        `by the ${UNLISTED_RULE_ID} rule (Falco sees decoded parameters, not seccomp's raw argument words)`,
      ),
    );
  }
  if (policy.architectures.some((arch) => kernelAbis(arch).length > 1)) {
    warnings.push(
      `${UNLISTED_RULE_ID}: only the native ABI's syscalls are listed; Falco reports compat (i386, x32, arm) syscalls ` +
        "under 64-bit names or not at all, and the policy's badArchAction / rules decide them",
    );
  }
  const scope = workloadScope(options, warnings);
  const name = plainName(policy.name);
  return [
    ...scope.items,
    { list: 'sysfence_unlisted_syscalls', items: [...names] },
    {
      rule: 'sysfence unlisted syscall',
      desc: `A syscall outside the whitelist of sysfence policy '${name}' (the seccomp filter refuses or kills it).`,
      condition: `evt.dir=< and evt.type in (sysfence_unlisted_syscalls)${scope.condition}`,
      output: `sysfence ${UNLISTED_RULE_ID}: %evt.type outside the whitelist of policy ${name} (res=%evt.res ${PROCESS_CONTEXT})`,
      priority: FALCO_PRIORITY[UNLISTED_RULE_ID],
      tags: tags(UNLISTED_RULE_ID),
    },
  ];
}

/** The native ABI of every kernel the policy's ABIs run on. */
function nativeAbis(policy: ResolvedPolicy): Arch[] {
  return [...new Set(policy.architectures.map(kernelArch))];
}

function workloadScope(options: FalcoOptions, warnings: string[]): { items: FalcoItem[]; condition: string } {
  const exes = checkValues(options.exe ?? [], 'exe');
  const images = checkValues(options.containerImages ?? [], 'container image');
  const items: FalcoItem[] = [];
  const terms: string[] = [];
  if (exes.length > 0) {
    items.push({ list: 'sysfence_workload_exes', items: exes });
    terms.push('proc.exepath in (sysfence_workload_exes)');
  }
  if (images.length > 0) {
    items.push({ list: 'sysfence_workload_images', items: images });
    terms.push('container.image.repository in (sysfence_workload_images)');
  }
  if (terms.length === 0) {
    warnings.push(
      `${UNLISTED_RULE_ID}: no exe or container image given: the rule fires for every process on the host`,
    );
    return { items, condition: '' };
  }
  items.push({ macro: 'sysfence_workload', condition: `(${terms.join(' or ')})` });
  return { items, condition: ' and sysfence_workload' };
}

function dropperExecItems(warnings: string[]): FalcoItem[] {
  warnings.push(
    'dropper-exec: approximated: Falco cannot link an open-for-write to a later execve, so the rule fires on ' +
      'any execve from a world-writable directory or of a binary not in the container image (proc.is_exe_upper_layer)',
  );
  return [
    { list: 'sysfence_writable_dirs', items: [...MONITOR_DEFAULTS.writableDirs] },
    {
      rule: 'sysfence dropper-exec',
      desc: 'A program executed from a world-writable directory, or one added to the container after it started: the download-and-run pattern.',
      condition:
        'sysfence_spawned_process and (proc.exepath pmatch (sysfence_writable_dirs) or proc.is_exe_upper_layer=true)',
      output: `sysfence dropper-exec: executed %proc.exepath from a writable location (${PROCESS_CONTEXT})`,
      priority: FALCO_PRIORITY['dropper-exec'],
      tags: tags('dropper-exec'),
    },
  ];
}

/**
 * A name test over an exact list plus prefixes: Falco's `in` compares whole values, so the monitor's
 * `php-fpm*` entries become `startswith` terms.
 */
function nameTest(
  field: string,
  listName: string,
  names: readonly string[],
): { list: FalcoList; condition: string } {
  const exact = names.filter((name) => !name.endsWith('*'));
  const prefixes = names.filter((name) => name.endsWith('*')).map((name) => name.slice(0, -1));
  const terms = [`${field} in (${listName})`, ...prefixes.map((prefix) => `${field} startswith ${prefix}`)];
  return {
    list: { list: listName, items: checkValues(exact, listName) },
    condition: `(${terms.join(' or ')})`,
  };
}

function vforkExecItems(): FalcoItem[] {
  const servers = nameTest('proc.pname', 'sysfence_servers', MONITOR_DEFAULTS.servers);
  const interpreters = nameTest('proc.name', 'sysfence_interpreters', MONITOR_DEFAULTS.interpreters);
  return [
    servers.list,
    interpreters.list,
    {
      rule: 'sysfence vfork-exec',
      desc: 'A JVM or web server spawned a shell, interpreter or downloader: how remote code execution (Log4Shell and the like) shows itself.',
      condition: `sysfence_spawned_process and ${servers.condition} and ${interpreters.condition}`,
      output: `sysfence vfork-exec: %proc.pname spawned %proc.name, possible remote code execution (${PROCESS_CONTEXT})`,
      priority: FALCO_PRIORITY['vfork-exec'],
      tags: tags('vfork-exec'),
    },
  ];
}

/** Falco's own style (falco_rules.yaml "PTRACE attached to process"): `contains` on the decoded request. */
function ptraceInjectItems(): FalcoItem[] {
  const requests = PTRACE_INJECTION.map(([name]) => `evt.arg.request contains ${name}`);
  return [
    {
      macro: 'sysfence_ptrace_injection',
      condition: `(evt.type=ptrace and evt.dir=> and (${requests.join(' or ')}))`,
    },
    {
      rule: 'sysfence ptrace-inject',
      desc: 'ptrace attaching to, or writing the memory or registers of, another process: code injection and credential theft.',
      condition: 'sysfence_ptrace_injection',
      output: `sysfence ptrace-inject: ptrace %evt.arg.request on pid %evt.arg.pid (${PROCESS_CONTEXT})`,
      priority: FALCO_PRIORITY['ptrace-inject'],
      tags: tags('ptrace-inject'),
    },
  ];
}

function timeTamperItems(warnings: string[]): FalcoItem[] {
  warnings.push(
    'time-tamper: approximated: Falco cannot read struct timex, so read-only adjtimex/clock_adjtime calls, ' +
      'settimeofday with a NULL time and clocks other than CLOCK_REALTIME fire too',
  );
  return [
    { list: 'sysfence_time_daemons', items: [...MONITOR_DEFAULTS.timeDaemons] },
    {
      rule: 'sysfence time-tamper',
      desc: 'The system clock set or stepped by something other than a time daemon: fools log correlation, certificate checks and TOTP.',
      condition:
        'evt.type in (settimeofday, clock_settime, adjtimex, clock_adjtime) and evt.dir=< and not proc.exepath in (sysfence_time_daemons)',
      output: `sysfence time-tamper: %evt.type by %proc.exepath (res=%evt.res ${PROCESS_CONTEXT})`,
      priority: FALCO_PRIORITY['time-tamper'],
      tags: tags('time-tamper'),
    },
  ];
}
