/**
 * `sysfence probe`: what this kernel offers for enforcement and monitoring, read from /proc, /sys, the
 * kernel config and a few harmless system calls. Each finding says where it came from, so an operator
 * can tell "absent" from "could not be determined".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { hostArch } from '../syscalls/arch.js';
import { landlockAbi } from './landlock.js';
import { siblingScript } from './node-script.js';

/** A yes/no finding that may also be unknown, with the evidence it rests on. */
export interface Finding {
  readonly value: boolean | undefined;
  readonly evidence: string;
}

export interface KernelProbe {
  readonly kernel: { readonly release: string; readonly arch: string };
  readonly seccomp: {
    readonly filterSupported: Finding;
    readonly actionsAvailable: readonly string[];
    readonly actionsLogged: readonly string[];
    /** The seccomp action cache (bitmap of always-allowed syscalls), kernel 5.11+. */
    readonly actionCache: Finding;
    /** /proc/PID/seccomp_cache exists (CONFIG_SECCOMP_CACHE_DEBUG). */
    readonly actionCacheDebug: Finding;
  };
  readonly landlock: { readonly abi: number; readonly evidence: string };
  readonly audit: {
    readonly enabled: Finding;
    readonly auditdRunning: Finding;
    readonly logFile: string | undefined;
  };
  readonly bpf: {
    readonly bpftrace: string | undefined;
    readonly btf: Finding;
    readonly unprivilegedBpfDisabled: number | undefined;
  };
  readonly tracefs: { readonly mountPoints: readonly string[] };
  readonly cgroup: {
    readonly version: 'v1' | 'v2' | 'hybrid' | 'none';
    readonly v2Mount: string | undefined;
    readonly v1FreezerMount: string | undefined;
    /** cgroup v2 has a built-in freezer (cgroup.freeze) on kernels ≥ 5.2. */
    readonly v2Freezer: Finding;
  };
  readonly compat: { readonly ia32: Finding; readonly x32: Finding };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function words(text: string | undefined): string[] {
  return text === undefined
    ? []
    : text
        .trim()
        .split(/\s+/)
        .filter((w) => w !== '');
}

/** The kernel build config as NAME → value, from /proc/config.gz or /boot/config-RELEASE. */
export function kernelConfig(): {
  readonly values: ReadonlyMap<string, string>;
  readonly source: string | undefined;
} {
  const sources: ReadonlyArray<readonly [string, () => string]> = [
    ['/proc/config.gz', () => gunzipSync(readFileSync('/proc/config.gz')).toString('utf8')],
    [`/boot/config-${release()}`, () => readFileSync(`/boot/config-${release()}`, 'utf8')],
  ];
  for (const [source, read] of sources) {
    try {
      return { values: parseKernelConfig(read()), source };
    } catch {
      // try the next source
    }
  }
  return { values: new Map(), source: undefined };
}

/** Parses `CONFIG_X=y` lines; `# CONFIG_X is not set` becomes 'n'. */
export function parseKernelConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) values.set(set[1] as string, set[2] as string);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) values.set(unset[1] as string, 'n');
  }
  return values;
}

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly type: string;
  readonly options: string;
}

function mounts(): Mount[] {
  return (readText('/proc/self/mounts') ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [source = '', target = '', type = '', options = ''] = line.split(' ');
      return { source, target: target.replace(/\\040/g, ' '), type, options };
    });
}

function kernelVersionAtLeast(major: number, minor: number): boolean {
  const [maj = 0, min = 0] = release().split(/[.-]/).map(Number);
  return maj > major || (maj === major && min >= minor);
}

function configFinding(config: ReturnType<typeof kernelConfig>, name: string): Finding {
  if (config.source === undefined) return { value: undefined, evidence: 'kernel config not readable' };
  const value = config.values.get(name);
  return { value: value === 'y' || value === 'm', evidence: `${name}=${value ?? 'n'} (${config.source})` };
}

function probeSeccomp(config: ReturnType<typeof kernelConfig>): KernelProbe['seccomp'] {
  const status = readText('/proc/self/status');
  const mode = status === undefined ? undefined : /^Seccomp:\s*(\d+)/m.exec(status)?.[1];
  return {
    filterSupported:
      mode === undefined
        ? configFinding(config, 'CONFIG_SECCOMP_FILTER')
        : { value: true, evidence: `/proc/self/status Seccomp: ${mode}` },
    actionsAvailable: words(readText('/proc/sys/kernel/seccomp/actions_avail')),
    actionsLogged: words(readText('/proc/sys/kernel/seccomp/actions_logged')),
    actionCache: kernelVersionAtLeast(5, 11)
      ? { value: true, evidence: `kernel ${release()} ≥ 5.11 caches always-allowed syscalls per filter` }
      : { value: false, evidence: `kernel ${release()} < 5.11 has no seccomp action cache` },
    actionCacheDebug: {
      value: existsSync(`/proc/${process.pid}/seccomp_cache`),
      evidence: `/proc/${process.pid}/seccomp_cache (CONFIG_SECCOMP_CACHE_DEBUG)`,
    },
  };
}

function probeLandlock(): KernelProbe['landlock'] {
  try {
    const abi = landlockAbi();
    return {
      abi,
      evidence:
        abi === 0
          ? 'landlock_create_ruleset: not built in or disabled at boot'
          : 'landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)',
    };
  } catch (error) {
    return { abi: 0, evidence: `landlock_create_ruleset failed: ${(error as Error).message}` };
  }
}

function processNamed(name: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && readText(`/proc/${entry}/comm`)?.trim() === name) return Number(entry);
  }
  return undefined;
}

function probeAudit(): KernelProbe['audit'] {
  const auditctl = spawnSync('auditctl', ['-s'], { encoding: 'utf8' });
  const enabledText = auditctl.status === 0 ? /^enabled (\d)/m.exec(auditctl.stdout)?.[1] : undefined;
  const enabled: Finding =
    enabledText === undefined
      ? {
          value: undefined,
          evidence: auditctl.error
            ? 'auditctl not installed (apt-get install auditd)'
            : `auditctl -s failed: ${auditctl.stderr.trim()}`,
        }
      : {
          value: enabledText !== '0',
          evidence: `auditctl -s: enabled ${enabledText}${enabledText === '2' ? ' (locked)' : ''}`,
        };
  const pid = processNamed('auditd');
  return {
    enabled,
    auditdRunning: {
      value: pid !== undefined,
      evidence: pid === undefined ? 'no auditd process in /proc' : `auditd pid ${pid}`,
    },
    logFile: existsSync('/var/log/audit/audit.log') ? '/var/log/audit/audit.log' : undefined,
  };
}

function probeBpf(): KernelProbe['bpf'] {
  const bpftrace = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  const unprivileged = readText('/proc/sys/kernel/unprivileged_bpf_disabled');
  return {
    bpftrace: bpftrace.status === 0 ? bpftrace.stdout.trim() : undefined,
    btf: { value: existsSync('/sys/kernel/btf/vmlinux'), evidence: '/sys/kernel/btf/vmlinux' },
    unprivilegedBpfDisabled: unprivileged === undefined ? undefined : Number(unprivileged.trim()),
  };
}

function probeCgroup(all: readonly Mount[]): KernelProbe['cgroup'] {
  const v2 = all.find((m) => m.type === 'cgroup2');
  const v1 = all.filter((m) => m.type === 'cgroup');
  const freezer = v1.find((m) => m.options.split(',').includes('freezer'));
  const version = v2 && v1.length > 0 ? 'hybrid' : v2 ? 'v2' : v1.length > 0 ? 'v1' : 'none';
  return {
    version,
    v2Mount: v2?.target,
    v1FreezerMount: freezer?.target,
    v2Freezer: v2
      ? { value: kernelVersionAtLeast(5, 2), evidence: `cgroup.freeze in ${v2.target} (kernel ≥ 5.2)` }
      : { value: false, evidence: 'no cgroup2 mount' },
  };
}

function probeIa32(config: ReturnType<typeof kernelConfig>): Finding {
  if (hostArch() !== 'x86_64') return { value: false, evidence: `not an x86_64 kernel (${hostArch()})` };
  const built = configFinding(config, 'CONFIG_IA32_EMULATION');
  if (built.value !== true) return built;
  // Since 6.7 the emulation can be compiled in but off unless ia32_emulation=true is on the command line.
  const cmdline = /(?:^|\s)ia32_emulation=(\S+)/.exec(readText('/proc/cmdline') ?? '')?.[1];
  const offByDefault = config.values.get('CONFIG_IA32_EMULATION_DEFAULT_DISABLED') === 'y';
  const on =
    cmdline === undefined ? !offByDefault : ['1', 'y', 'yes', 'true', 'on'].includes(cmdline.toLowerCase());
  const why =
    cmdline === undefined
      ? `${offByDefault ? 'disabled' : 'enabled'} by default`
      : `ia32_emulation=${cmdline} on the kernel command line`;
  return { value: on, evidence: `${built.evidence}; ${why}` };
}

function probeX32(config: ReturnType<typeof kernelConfig>): Finding {
  if (hostArch() !== 'x86_64') return { value: false, evidence: `not an x86_64 kernel (${hostArch()})` };
  const { node, args } = siblingScript('x32-probe');
  const child = spawnSync(node, args, { encoding: 'utf8', env: {} });
  const built = configFinding(config, 'CONFIG_X86_X32_ABI').evidence;
  const answer = child.stdout.trim();
  if (answer === 'enabled') return { value: true, evidence: `an x32 getpid ran; ${built}` };
  if (answer === 'disabled') return { value: false, evidence: `an x32 getpid returned ENOSYS; ${built}` };
  const how = child.signal
    ? `killed by ${child.signal} (a filter on sysfence?)`
    : answer || child.stderr.trim();
  return { value: undefined, evidence: `the x32 probe failed: ${how}; ${built}` };
}

/** Probes this kernel; never throws for a missing facility (that is a finding). */
export function probeKernel(): KernelProbe {
  const config = kernelConfig();
  const all = mounts();
  return {
    kernel: { release: release(), arch: hostArch() },
    seccomp: probeSeccomp(config),
    landlock: probeLandlock(),
    audit: probeAudit(),
    bpf: probeBpf(),
    tracefs: { mountPoints: all.filter((m) => m.type === 'tracefs').map((m) => m.target) },
    cgroup: probeCgroup(all),
    compat: { ia32: probeIa32(config), x32: probeX32(config) },
  };
}

function yesNo(finding: Finding): string {
  const word = finding.value === undefined ? 'unknown' : finding.value ? 'yes' : 'no';
  return `${word}  (${finding.evidence})`;
}

/** The probe as a two-column table, one facility per line. */
export function formatProbeTable(probe: KernelProbe): string {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ['kernel', `${probe.kernel.release} (${probe.kernel.arch})`],
    ['seccomp filters', yesNo(probe.seccomp.filterSupported)],
    ['seccomp actions available', probe.seccomp.actionsAvailable.join(' ') || 'unknown'],
    ['seccomp actions logged', probe.seccomp.actionsLogged.join(' ') || 'unknown'],
    ['seccomp action cache', yesNo(probe.seccomp.actionCache)],
    ['seccomp cache debug file', yesNo(probe.seccomp.actionCacheDebug)],
    ['landlock ABI', `${probe.landlock.abi}  (${probe.landlock.evidence})`],
    ['audit enabled', yesNo(probe.audit.enabled)],
    ['auditd running', yesNo(probe.audit.auditdRunning)],
    ['audit log', probe.audit.logFile ?? 'not found'],
    ['bpftrace', probe.bpf.bpftrace ?? 'not installed'],
    ['BTF (vmlinux)', yesNo(probe.bpf.btf)],
    ['unprivileged_bpf_disabled', probe.bpf.unprivilegedBpfDisabled?.toString() ?? 'unknown'],
    ['tracefs', probe.tracefs.mountPoints.join(' ') || 'not mounted'],
    [
      'cgroup version',
      `${probe.cgroup.version}${probe.cgroup.v2Mount ? ` (cgroup2 at ${probe.cgroup.v2Mount})` : ''}`,
    ],
    ['cgroup v1 freezer', probe.cgroup.v1FreezerMount ?? 'not mounted'],
    ['cgroup v2 freezer', yesNo(probe.cgroup.v2Freezer)],
    ['ia32 emulation', yesNo(probe.compat.ia32)],
    ['x32 ABI', yesNo(probe.compat.x32)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n') + '\n';
}
