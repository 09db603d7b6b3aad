/**
 * Risk catalogue: syscalls that a least-privilege policy should allow only on purpose, with why.
 *
 * Levels: 'critical' = allowing it can hand over the kernel, another process or the host outright;
 * 'high' = a well-known escalation or escape route, or a large kernel attack surface;
 * 'medium' = leaks information or changes shared state, dangerous mostly in combination.
 * The reasons summarise the kernel's documented behaviour and the reasoning behind Docker's default
 * profile and systemd's @privileged / @debug / @mount / @module groups.
 */

export type RiskLevel = 'critical' | 'high' | 'medium';

export type RiskCategory =
  | 'process-injection' // reads or writes another process's memory, registers or file descriptors
  | 'kernel-modification' // replaces or extends the running kernel
  | 'privilege' // acts with, or hands out, privileges beyond the caller's own
  | 'namespace' // creates or enters namespaces (user namespaces unlock root-only kernel code)
  | 'filesystem-escape' // changes what the file-system view is, or reaches files outside it
  | 'kernel-attack-surface' // large, bug-prone kernel interfaces favoured by exploits
  | 'seccomp-bypass' // performs operations the filter never sees
  | 'hardware-access' // raw I/O ports or PCI configuration space
  | 'information-leak' // exposes kernel or other processes' data
  | 'system-state' // changes host-wide state (power, swap, accounting, quotas, names)
  | 'time' // sets a clock that is shared by the whole host
  | 'mitigation-bypass' // switches off exploit mitigations for the caller and its children
  | 'obsolete-abi'; // legacy interfaces with a history of kernel bugs and no modern use

export interface RiskEntry {
  readonly level: RiskLevel;
  readonly category: RiskCategory;
  /** One line: what the call lets a compromised process do. */
  readonly reason: string;
}

function risk(level: RiskLevel, category: RiskCategory, reason: string): RiskEntry {
  return { level, category, reason };
}

const MOUNT_REASON =
  'with CAP_SYS_ADMIN (also in a user namespace) rearranges mounts: hides, replaces or exposes paths';
const TIME_REASON =
  'sets a host-wide clock (time is not namespaced): breaks TLS validity, logs, Kerberos and timers';
const KEYRING_REASON =
  'kernel keyrings are not namespaced (secrets shared across containers); long CVE history';

export const RISK_CATALOGUE: Readonly<Record<string, RiskEntry>> = {
  // process injection and inspection
  ptrace: risk(
    'critical',
    'process-injection',
    "reads and writes any traceable process's memory and registers; before Linux 4.8 it could also skip seccomp",
  ),
  process_vm_writev: risk(
    'critical',
    'process-injection',
    "writes another process's memory directly (same permission check as ptrace attach)",
  ),
  process_vm_readv: risk(
    'high',
    'information-leak',
    "reads another process's memory: keys, tokens, passwords",
  ),
  pidfd_getfd: risk(
    'high',
    'process-injection',
    'copies an open file descriptor out of another process (ptrace permission), e.g. its sockets',
  ),
  process_madvise: risk(
    'medium',
    'process-injection',
    "applies madvise hints to another process's memory (pages it out, collapses it)",
  ),
  kcmp: risk(
    'medium',
    'information-leak',
    'compares kernel objects of two processes; its ordering leaks kernel pointer layout',
  ),

  // kernel modification
  kexec_load: risk('critical', 'kernel-modification', 'replaces the running kernel with arbitrary code'),
  kexec_file_load: risk('critical', 'kernel-modification', 'replaces the running kernel from a file'),
  init_module: risk('critical', 'kernel-modification', 'loads arbitrary code into the kernel'),
  finit_module: risk(
    'critical',
    'kernel-modification',
    'loads arbitrary code into the kernel from a file descriptor',
  ),
  delete_module: risk(
    'high',
    'kernel-modification',
    'unloads kernel modules, removing security modules or drivers',
  ),

  // kernel attack surface and filter bypass
  bpf: risk(
    'high',
    'kernel-attack-surface',
    'loads eBPF programs: verifier bugs are a recurring root exploit; privileged use reads kernel memory',
  ),
  perf_event_open: risk(
    'high',
    'kernel-attack-surface',
    'large, bug-prone interface; leaks kernel addresses and side channels',
  ),
  userfaultfd: risk(
    'high',
    'kernel-attack-surface',
    'lets user space stall kernel page faults, the standard way to win kernel race exploits',
  ),
  io_uring_setup: risk(
    'critical',
    'seccomp-bypass',
    'io_uring performs opens, reads, connects ... without syscalls, so the filter never sees them',
  ),
  io_uring_enter: risk(
    'high',
    'seccomp-bypass',
    'submits io_uring operations, which bypass the seccomp filter',
  ),
  io_uring_register: risk(
    'high',
    'seccomp-bypass',
    'registers files and buffers with an io_uring instance (filter bypass, large attack surface)',
  ),
  keyctl: risk('medium', 'kernel-attack-surface', KEYRING_REASON),
  add_key: risk('medium', 'kernel-attack-surface', KEYRING_REASON),
  request_key: risk(
    'medium',
    'kernel-attack-surface',
    `${KEYRING_REASON}; may run the request-key helper as root`,
  ),

  // namespaces
  unshare: risk(
    'high',
    'namespace',
    'CLONE_NEWUSER grants full capabilities inside a new user namespace, unlocking root-only kernel code',
  ),
  setns: risk('high', 'namespace', "joins another process's namespaces through a file descriptor"),
  clone3: risk(
    'medium',
    'namespace',
    'can create namespaces like unshare, and its flags sit in memory seccomp cannot inspect',
  ),

  // mount family and file-system escapes
  mount: risk('high', 'filesystem-escape', MOUNT_REASON),
  umount: risk('high', 'filesystem-escape', `${MOUNT_REASON} (unmounting uncovers hidden paths)`),
  umount2: risk('high', 'filesystem-escape', `${MOUNT_REASON} (unmounting uncovers hidden paths)`),
  move_mount: risk('high', 'filesystem-escape', MOUNT_REASON),
  fsopen: risk('high', 'filesystem-escape', `${MOUNT_REASON}; also feeds crafted images to fs parsers`),
  fsconfig: risk('high', 'filesystem-escape', MOUNT_REASON),
  fsmount: risk('high', 'filesystem-escape', MOUNT_REASON),
  fspick: risk('high', 'filesystem-escape', `${MOUNT_REASON} (reconfigures a superblock)`),
  open_tree: risk(
    'medium',
    'filesystem-escape',
    'OPEN_TREE_CLONE detaches a copy of a mount tree that move_mount can attach elsewhere',
  ),
  open_tree_attr: risk('high', 'filesystem-escape', `${MOUNT_REASON} (clones a tree with new attributes)`),
  mount_setattr: risk(
    'high',
    'filesystem-escape',
    'changes mount attributes: read-only off, id-mapping, propagation',
  ),
  pivot_root: risk('high', 'filesystem-escape', 'changes the root mount of the mount namespace'),
  chroot: risk(
    'high',
    'filesystem-escape',
    'changes the root directory; escapable with a kept directory fd, and confuses setuid programs',
  ),
  open_by_handle_at: risk(
    'critical',
    'filesystem-escape',
    'opens files by handle, ignoring chroot and mount boundaries (the "shocker" container escape)',
  ),
  name_to_handle_at: risk(
    'medium',
    'filesystem-escape',
    'produces the file handles that open_by_handle_at uses to escape a mount view',
  ),
  mknod: risk(
    'medium',
    'filesystem-escape',
    'creates device nodes: with CAP_MKNOD, raw access to host disks and memory',
  ),
  mknodat: risk(
    'medium',
    'filesystem-escape',
    'creates device nodes: with CAP_MKNOD, raw access to host disks and memory',
  ),
  fanotify_init: risk(
    'high',
    'information-leak',
    'watches, and with permission events blocks, file access across a whole mount or file system',
  ),

  // hardware
  iopl: risk(
    'critical',
    'hardware-access',
    'grants access to every I/O port: reprogram devices, DMA over kernel memory',
  ),
  ioperm: risk('high', 'hardware-access', 'grants access to I/O ports 0-0x3ff: reprogram legacy devices'),
  pciconfig_read: risk('medium', 'hardware-access', 'reads PCI configuration space'),
  pciconfig_write: risk(
    'high',
    'hardware-access',
    'writes PCI configuration space (device BARs, DMA settings)',
  ),
  pciconfig_iobase: risk('medium', 'hardware-access', 'reveals PCI I/O bases'),
  s390_pci_mmio_write: risk('high', 'hardware-access', 'writes PCI device memory directly (s390)'),
  s390_pci_mmio_read: risk('medium', 'hardware-access', 'reads PCI device memory directly (s390)'),

  // host state
  reboot: risk('high', 'system-state', 'reboots, halts or powers off the host, or arms kexec'),
  swapon: risk(
    'high',
    'system-state',
    'adds swap: host memory (and secrets) written to an attacker-chosen file or device',
  ),
  swapoff: risk('high', 'system-state', 'removes swap from the host'),
  acct: risk('medium', 'system-state', 'switches host-wide process accounting to a chosen file'),
  quotactl: risk('medium', 'system-state', 'changes disk quotas of any user on a file system'),
  quotactl_fd: risk('medium', 'system-state', 'changes disk quotas of any user on a file system'),
  sethostname: risk('medium', 'system-state', 'renames the host when not in its own UTS namespace'),
  setdomainname: risk('medium', 'system-state', 'renames the NIS domain when not in its own UTS namespace'),
  syslog: risk('medium', 'information-leak', 'reads or clears the kernel log, which leaks kernel addresses'),
  lookup_dcookie: risk(
    'medium',
    'information-leak',
    'turns kernel dcookies into paths (oprofile relic, stubbed out since Linux 6.8)',
  ),

  // time
  settimeofday: risk('high', 'time', TIME_REASON),
  stime: risk('high', 'time', TIME_REASON),
  clock_settime: risk('high', 'time', TIME_REASON),
  clock_settime64: risk('high', 'time', TIME_REASON),
  adjtimex: risk('high', 'time', `${TIME_REASON} (modes 0 only reads)`),
  clock_adjtime: risk('high', 'time', `${TIME_REASON} (modes 0 only reads)`),
  clock_adjtime64: risk('high', 'time', `${TIME_REASON} (modes 0 only reads)`),

  // exploit mitigations and obsolete ABIs
  personality: risk(
    'medium',
    'mitigation-bypass',
    'ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC switch off ASLR and NX for programs it executes',
  ),
  modify_ldt: risk(
    'high',
    'obsolete-abi',
    'installs custom x86 segment descriptors; a long line of kernel exploits',
  ),
  vm86: risk('high', 'obsolete-abi', 'enters x86 virtual-8086 mode (i386 only); historic kernel bugs'),
  vm86old: risk('high', 'obsolete-abi', 'enters x86 virtual-8086 mode (i386 only); historic kernel bugs'),
  // uselib is gone from Linux 7.2 (so from the generated tables); kept so profiles written for older
  // kernels that mention it are still flagged.
  uselib: risk(
    'medium',
    'obsolete-abi',
    'loads an a.out shared library into the caller (removed from recent kernels)',
  ),
};

/** The risk entry of a syscall, or undefined if the catalogue does not list it. */
export function riskOf(name: string): RiskEntry | undefined {
  return Object.hasOwn(RISK_CATALOGUE, name) ? RISK_CATALOGUE[name] : undefined;
}

/** True if the risk catalogue lists the syscall. */
export function isRisky(name: string): boolean {
  return riskOf(name) !== undefined;
}
