/**
 * `sysfence convert IN --to FORMAT [-o FILE]`: from any policy format sysfence reads to any it writes.
 * Input is detected (sysfence YAML/JSON, OCI / Docker JSON, ...); Docker's includes/excludes are decided
 * for --arch, --caps and --kernel. Everything a target cannot carry exactly is printed as `warning:`
 * lines naming the rule; what the target would enforce more weakly is an error and nothing is written.
 */
import { writeFileSync } from 'node:fs';
import { exportAppArmor } from '../../formats/apparmor.js';
import { exportAuditRules } from '../../formats/auditd.js';
import { exportFalcoRules } from '../../formats/falco.js';
import { loadAnyPolicy } from '../../formats/load.js';
import { exportOci, policyToYaml } from '../../formats/oci.js';
import type { ResolvedPolicy } from '../../policy/ir.js';
import { optionValue, optionValues, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { POLICY_LOAD_OPTIONS, POLICY_LOAD_USAGE, policyLoadOptions } from '../load-options.js';

/** What every exporter returns: the text to write and what it could not carry. */
interface Converted {
  readonly text: string;
  readonly warnings: readonly string[];
}

/** The target-specific options, read once from the command line. */
interface TargetOptions {
  /** --exe: the workload's executable (AppArmor attachment, auditd and Falco scoping). */
  readonly exe: readonly string[];
  /** --name: the AppArmor profile name (default: the policy's name). */
  readonly name?: string;
}

interface Target {
  readonly describe: string;
  readonly convert: (policy: ResolvedPolicy, options: TargetOptions) => Converted;
}

const TARGETS: Readonly<Record<string, Target>> = {
  oci: {
    describe: 'an OCI linux.seccomp object (JSON) for runc, crun, Docker, Podman, containerd',
    convert: (policy) => {
      const result = exportOci(policy);
      return { text: result.json, warnings: result.warnings };
    },
  },
  yaml: {
    describe: 'a sysfence policy (YAML)',
    convert: (policy) => ({ text: policyToYaml(policy), warnings: [] }),
  },
  apparmor: {
    describe: 'an AppArmor profile from the filesystem/network sections (apparmor_parser)',
    convert: (policy, options) =>
      exportAppArmor(policy, { profileName: options.name ?? policy.name, attachment: options.exe[0] }),
  },
  auditd: {
    describe: 'audit rules recording every syscall outside the whitelist, plus time/ptrace/module rules',
    convert: (policy, options) => exportAuditRules(policy, { exe: singleExe(options, 'auditd') }),
  },
  falco: {
    describe: "Falco rules equivalent to the monitor's built-in rules",
    convert: (policy, options) => exportFalcoRules(policy, { exe: options.exe }),
  },
};

function singleExe(options: TargetOptions, target: string): string | undefined {
  if (options.exe.length > 1) throw new UsageError(`--to ${target} takes at most one --exe`);
  return options.exe[0];
}

const TARGET_LIST = Object.entries(TARGETS)
  .map(([name, target]) => `  --to ${name.padEnd(10)} ${target.describe}`)
  .join('\n');

const USAGE = `usage: sysfence convert IN --to FORMAT [-o FILE] [--exe PATH]... [--name NAME]
                        [--arch ARCH] [--caps CAP,...] [--kernel X.Y] [--unknown-action ACTION]

Converts IN (any policy format sysfence reads) to:
${TARGET_LIST}
  --exe PATH             the workload's executable: AppArmor attachment; auditd and Falco rules cover
                         only it (without it they cover every process on the host, with a warning)
  --name NAME            AppArmor profile name (default: the policy's name)
${POLICY_LOAD_USAGE}  -o FILE                where to write (default: stdout)
Warnings go to stderr, prefixed 'warning:'.
`;

function targetNamed(name: string | undefined): Target {
  const target = name === undefined ? undefined : TARGETS[name];
  if (target === undefined) throw new UsageError(`--to must be one of: ${Object.keys(TARGETS).join(', ')}`);
  return target;
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const input = requirePositional(args, 0, 'IN');
  const target = targetNamed(optionValue(args, 'to'));
  const loaded = await loadAnyPolicy(input, policyLoadOptions(args));
  const converted = target.convert(loaded.policy, {
    exe: optionValues(args, 'exe'),
    name: optionValue(args, 'name'),
  });
  for (const warning of [...loaded.warnings, ...converted.warnings]) io.stderr(`warning: ${warning}\n`);
  const output = optionValue(args, 'output');
  if (output === undefined) io.stdout(converted.text);
  else writeFileSync(output, converted.text);
  return 0;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert between policy formats (OCI, SPO, systemd, Firecracker, AppArmor, auditd, Falco)',
  usage: USAGE,
  options: [
    { name: 'to', value: true },
    { name: 'output', short: 'o', value: true },
    { name: 'exe', value: true, repeat: true },
    { name: 'name', value: true },
    ...POLICY_LOAD_OPTIONS,
  ],
  run,
};
