/**
 * `sysfence convert IN --to FORMAT [-o FILE]`: from any policy format sysfence reads to any it writes.
 * Input is detected (sysfence YAML/JSON, OCI / Docker JSON, ...); Docker's includes/excludes are decided
 * for --arch, --caps and --kernel. Everything a target cannot carry exactly is printed as `warning:`
 * lines naming the rule; what the target would enforce more weakly is an error and nothing is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exportAppArmor } from '../../formats/apparmor.js';
import { exportAuditRules } from '../../formats/auditd.js';
import { exportFalcoRules } from '../../formats/falco.js';
import { exportFirecracker } from '../../formats/firecracker-export.js';
import { loadAnyPolicy } from '../../formats/load.js';
import { exportOci, policyToYaml } from '../../formats/oci.js';
import { exportSpo } from '../../formats/spo-export.js';
import { exportSystemd } from '../../formats/systemd-export.js';
import type { Arch } from '../../syscalls/arch.js';
import { archOption } from '../arch-option.js';
import type { ResolvedPolicy } from '../../policy/ir.js';
import { optionValue, optionValues, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { POLICY_LOAD_OPTIONS, POLICY_LOAD_USAGE, policyLoadOptions } from '../load-options.js';

/** What every exporter returns: the text to write and what it could not carry. */
interface Converted {
  readonly text: string;
  readonly warnings: readonly string[];
  /** Targets that are several files (SPO: manifests, patches, kubelet JSON), by relative path. */
  readonly files?: readonly { readonly path: string; readonly text: string }[];
}

/** The target-specific options, read once from the command line. */
interface TargetOptions {
  /** --exe: the workload's executable (AppArmor attachment, auditd and Falco scoping). */
  readonly exe: readonly string[];
  /** --name: the AppArmor profile / SPO SeccompProfile / Firecracker thread name. */
  readonly name?: string;
  /** --namespace: SPO namespaced (v1beta1) profiles instead of cluster-scoped v1. */
  readonly namespace?: string;
  /** --arch: the host the output is for (systemd, Firecracker). */
  readonly arch?: Arch;
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
  spo: {
    describe:
      'Kubernetes Security Profiles Operator SeccompProfile(s) (--out-dir: plus Pod/Deployment patches, kubelet JSON)',
    convert: (policy, options) => exportSpo(policy, { name: options.name, namespace: options.namespace }),
  },
  systemd: {
    describe: 'a systemd unit drop-in (SystemCallFilter=, SystemCallErrorNumber=, SystemCallLog=, ...)',
    convert: (policy, options) => exportSystemd(policy, { arch: options.arch }),
  },
  firecracker: {
    describe: "Firecracker seccompiler JSON for one thread (--name: the thread, default 'vmm')",
    convert: (policy, options) => exportFirecracker(policy, { thread: options.name, arch: options.arch }),
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

const USAGE = `usage: sysfence convert IN --to FORMAT [-o FILE | --out-dir DIR] [--exe PATH]... [--name NAME]
                        [--arch ARCH] [--caps CAP,...] [--kernel X.Y] [--unknown-action ACTION]

Converts IN (any policy format sysfence reads) to:
${TARGET_LIST}
  --exe PATH             the workload's executable: AppArmor attachment; auditd and Falco rules cover
                         only it (without it they cover every process on the host, with a warning)
  --name NAME            AppArmor profile, SPO SeccompProfile or Firecracker thread name
  --namespace NS         SPO: namespaced v1beta1 profiles (default: cluster-scoped v1)
  --out-dir DIR          SPO: write every file (manifests, Pod/Deployment patches, kubelet JSON) to DIR
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
    namespace: optionValue(args, 'namespace'),
    arch: archOption(args),
  });
  for (const warning of [...loaded.warnings, ...converted.warnings]) io.stderr(`warning: ${warning}\n`);
  writeConverted(converted, args, io);
  return 0;
}

/** Writes to -o FILE, to --out-dir DIR (every file of a multi-file target), or to stdout. */
function writeConverted(converted: Converted, args: ParsedArgs, io: CommandIO): void {
  const output = optionValue(args, 'output');
  const outDir = optionValue(args, 'out-dir');
  if (outDir !== undefined) {
    if (converted.files === undefined) {
      throw new UsageError('--out-dir is for targets that write several files (spo)');
    }
    for (const file of converted.files) {
      const path = join(outDir, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.text);
      io.stderr(`wrote ${path}\n`);
    }
  }
  if (output !== undefined) writeFileSync(output, converted.text);
  else if (outDir === undefined) io.stdout(converted.text);
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
    { name: 'namespace', value: true },
    { name: 'out-dir', value: true },
    ...POLICY_LOAD_OPTIONS,
  ],
  run,
};
