/**
 * Exporting a policy's `filesystem` and `network` sections as an AppArmor profile, for hosts that confine
 * services with AppArmor instead of (or besides) Landlock. Syscall rules stay with the seccomp filter:
 * AppArmor does not filter syscalls.
 *
 * An AppArmor profile is an allow-list: whatever it does not grant is denied. So the profile grants
 * what the policy's sections name and nothing else; where AppArmor cannot express the policy (TCP
 * ports) it says so in a warning, and a path it cannot write literally is an error, never a glob.
 *
 *   filesystem.read    → `r`      on the path and everything beneath it
 *   filesystem.write   → `wkl`    write/create/delete/rename (w), locks (k), hard links (l)
 *   filesystem.execute → `rmix`   read and map executable (what Landlock's execute grants), and exec
 *                                 with `ix`: the new program inherits this profile, as it inherits the
 *                                 seccomp filter and Landlock domain. `px` would need a profile per
 *                                 program (exec fails without one); `ux` would leave confinement.
 *   network (TCP)      → `network inet stream`, `network inet6 stream`: any port (see warnings)
 */
import type { FilesystemRules, NetworkRules, ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { beneathPattern, exactPattern } from './apparmor-path.js';
import { commentText } from '../policy/plain-text.js';

export interface AppArmorOptions {
  /** The profile's name (letters, digits, `.`, `_`, `-`). */
  readonly profileName: string;
  /** The executable the profile attaches to; without it the profile is used by name (aa-exec -p). */
  readonly attachment?: string;
}

export interface AppArmorExportResult {
  /** The profile text, ready for /etc/apparmor.d/ (trailing newline). */
  readonly text: string;
  readonly warnings: string[];
}

type PathList = keyof FilesystemRules;

/** AppArmor permissions per policy list (see the header for why each letter). */
const PERMISSIONS: Readonly<Record<PathList, string>> = { read: 'r', write: 'wkl', execute: 'rmix' };

/** /proc/self and /proc/thread-self are symlinks into /proc/<pid>. */
const PROC_SELF = /^\/proc\/(self|thread-self)(\/|$)/;

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Why abstractions/base is included: without it no dynamically linked program starts (ld.so.cache,
 * libc and the loader need `mr`), nor can it use /dev/null, locales or the syslog socket. It is also
 * the one place this profile grants paths the policy did not list, hence the warning.
 */
const BASE_WARNING =
  'abstractions/base is included so programs can start (dynamic loader, shared libraries `mr`, locales, ' +
  'zoneinfo, /dev/null|zero|full rw, /dev/log and journald sockets, a few /proc files, signals and ' +
  "unix sockets within the profile): these are granted beyond the policy's filesystem section";

/** Exports the filesystem and network sections as an AppArmor profile; throws a PolicyError for a path or name it cannot write exactly. */
export function exportAppArmor(policy: ResolvedPolicy, options: AppArmorOptions): AppArmorExportResult {
  const warnings: string[] = [BASE_WARNING, ...sectionWarnings(policy)];
  const body = [
    '  include <abstractions/base>',
    ...fileRules(policy.filesystem, warnings),
    ...networkRules(policy.network, warnings),
  ];
  const text = [
    ...headerComment(policy),
    'abi <abi/3.0>,',
    'include <tunables/global>',
    '',
    `${profileLine(options)} {`,
    ...body,
    '}',
    '',
  ].join('\n');
  return { text, warnings };
}

function profileLine(options: AppArmorOptions): string {
  if (!PROFILE_NAME.test(options.profileName)) {
    throw policyFailure(
      `AppArmor profile name ${JSON.stringify(options.profileName)} must be letters, digits, '.', '_' or '-'`,
    );
  }
  if (options.attachment === undefined) return `profile ${options.profileName}`;
  return `profile ${options.profileName} ${exactPattern(options.attachment, 'attachment')}`;
}

function headerComment(policy: ResolvedPolicy): string[] {
  const layers = policy.layers.map((layer) => layer.name).join(' <- ');
  return [
    `# AppArmor profile exported by sysfence from policy '${commentText(policy.name)}' (layers: ${commentText(layers)}).`,
    '# Only the filesystem and network sections are carried; syscalls are filtered by the seccomp policy',
    '# and TCP ports by Landlock. Whatever this profile does not grant, AppArmor denies.',
  ];
}

function sectionWarnings(policy: ResolvedPolicy): string[] {
  const warnings = [
    'syscall rules are not carried: AppArmor does not filter syscalls (install the seccomp filter as well)',
    'the profile grants no capabilities (AppArmor denies every capability it does not list); add ' +
      '`capability NAME,` lines by hand if the workload runs with privileges it needs',
  ];
  if (policy.filesystem === undefined) {
    warnings.push(
      'the policy has no filesystem section: the profile grants no file access beyond abstractions/base, ' +
        'whereas Landlock would leave files unrestricted',
    );
  }
  if (policy.network === undefined) {
    warnings.push(
      'the policy has no network section: the profile grants no network access, whereas Landlock would ' +
        'leave the network unrestricted',
    );
  }
  return warnings;
}

function fileRules(filesystem: FilesystemRules | undefined, warnings: string[]): string[] {
  if (filesystem === undefined) return [];
  const lines: string[] = [];
  for (const list of ['read', 'write', 'execute'] as const) {
    const paths = filesystem[list];
    if (paths.length === 0) continue;
    lines.push('', `  # filesystem.${list}: each path and everything beneath it`);
    for (const path of paths) {
      lines.push(`  ${beneathPattern(path, `filesystem.${list} path`)} ${PERMISSIONS[list]},`);
      if (PROC_SELF.test(path)) warnings.push(procSelfWarning(list, path));
    }
  }
  return lines;
}

/**
 * AppArmor matches the resolved path, and /proc/self resolves to /proc/<pid>: such a rule never
 * matches. Landlock resolved it once, to the workload's own pid; AppArmor has no pattern for "own pid"
 * (`owner @{PROC}/@{pid}/**` also covers every other process of the same user), so it is not widened.
 */
function procSelfWarning(list: PathList, path: string): string {
  return (
    `filesystem.${list} ${path}: AppArmor matches resolved paths (/proc/<pid>/...), so this rule matches nothing; ` +
    'abstractions/base grants @{PROC}/@{pid}/{maps,auxv,status}; add `owner @{PROC}/@{pid}/** r,` by hand ' +
    "if needed (it also covers the user's other processes)"
  );
}

function networkRules(network: NetworkRules | undefined, warnings: string[]): string[] {
  if (network === undefined) return [];
  const lists = [
    ['network.bindTcp', network.bindTcp],
    ['network.connectTcp', network.connectTcp],
  ] as const;
  for (const [rule, ports] of lists) {
    if (ports.length === 0) continue;
    warnings.push(
      `${rule} ${ports.join(', ')}: AppArmor (parser 3.x; port rules exist only in AppArmor 4 on some kernels) ` +
        'cannot restrict TCP by port, so the profile allows TCP on every port; the ports are enforced by Landlock (ABI 4+)',
    );
  }
  warnings.push(
    'the network section covers TCP only; the profile grants no UDP, raw, netlink or other socket families ' +
      '(Landlock leaves them open): add `network inet dgram,` etc. by hand if the workload needs them',
  );
  if (network.bindTcp.length === 0 && network.connectTcp.length === 0) return [];
  return [
    '',
    "  # network: TCP on any port; the policy's ports are enforced by Landlock",
    '  network inet stream,',
    '  network inet6 stream,',
  ];
}
