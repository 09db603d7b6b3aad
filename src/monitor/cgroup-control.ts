/**
 * Freezing and killing by cgroup, through the cgroup filesystem (no FFI): cgroup v2 `cgroup.freeze` /
 * `cgroup.kill`, cgroup v1 `freezer.state`. A cgroup is used only when it belongs to the offending
 * process: a container's cgroup, or one whose every member is the process or its descendant. Freezing a
 * shared cgroup (a user session, system.slice) would stop innocent processes, and one holding the
 * monitor itself would stop the monitor.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { containerIdFromCgroup } from '../sources/cgroup.js';
import { readProcStat } from './proc-stat.js';

export type CgroupVersion = 'v2' | 'v1';

/** A cgroup directory a process is in. */
export interface ProcessCgroup {
  readonly version: CgroupVersion;
  /** Absolute directory under the cgroup mount. */
  readonly dir: string;
  /** The path as /proc/PID/cgroup writes it. */
  readonly path: string;
  /** True when the path names a container (docker, containerd, cri-o, podman). */
  readonly container: boolean;
}

interface CgroupMount {
  readonly version: CgroupVersion;
  readonly root: string;
  readonly mountPoint: string;
}

/** How far a member's ancestry is followed when checking it descends from the offender. */
const MAX_TREE_DEPTH = 64;

/** The cgroup v2 mount and the v1 freezer mount, from /proc/self/mountinfo. */
export function cgroupMounts(mountinfo: string): { v2?: CgroupMount; freezer?: CgroupMount } {
  const found: { v2?: CgroupMount; freezer?: CgroupMount } = {};
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions = ''] = right.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (fsType === 'cgroup2' && found.v2 === undefined) found.v2 = { version: 'v2', root, mountPoint };
    if (fsType === 'cgroup' && superOptions.split(',').includes('freezer') && found.freezer === undefined) {
      found.freezer = { version: 'v1', root, mountPoint };
    }
  }
  return found;
}

function directoryFor(mount: CgroupMount, path: string): string | undefined {
  if (mount.root !== '/' && !path.startsWith(mount.root)) return undefined;
  const relative = mount.root === '/' ? path : path.slice(mount.root.length);
  return `${mount.mountPoint}${relative === '/' ? '' : relative}`;
}

/** The cgroups (v2 first, then v1 freezer) a process is in, from /proc/PID/cgroup; [] when it is gone. */
export function processCgroups(pid: number): ProcessCgroup[] {
  let text: string;
  let mountinfo: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const mounts = cgroupMounts(mountinfo);
  const found: ProcessCgroup[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    const [, hierarchy, controllers = '', path = ''] = match;
    const mount =
      hierarchy === '0' && controllers === ''
        ? mounts.v2
        : controllers.split(',').includes('freezer')
          ? mounts.freezer
          : undefined;
    const dir = mount === undefined ? undefined : directoryFor(mount, path);
    if (mount === undefined || dir === undefined) continue;
    found.push({
      version: mount.version,
      dir,
      path,
      container: containerIdFromCgroup(`0::${path}`) !== undefined,
    });
  }
  return found.sort((a, b) => (a.version === b.version ? 0 : a.version === 'v2' ? -1 : 1));
}

/** Sub-cgroups searched below a candidate: freezing a cgroup freezes all of them too. */
const MAX_SUBTREE_CGROUPS = 256;

/**
 * The processes in the cgroup and every cgroup below it (freezing or killing a cgroup reaches them all);
 * undefined when unreadable or larger than MAX_SUBTREE_CGROUPS (not "its own", then).
 */
function cgroupMembers(cgroup: ProcessCgroup): number[] | undefined {
  const members: number[] = [];
  const pending = [cgroup.dir];
  let visited = 0;
  try {
    while (pending.length > 0) {
      const dir = pending.pop() as string;
      if (++visited > MAX_SUBTREE_CGROUPS) return undefined;
      for (const line of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n')) {
        if (line !== '') members.push(Number(line));
      }
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) pending.push(`${dir}/${entry.name}`);
      }
    }
  } catch {
    return undefined;
  }
  return members;
}

/** True when `member` is `root` or descends from it (following live ppids). */
function descendsFrom(member: number, root: number): boolean {
  let current: number | undefined = member;
  for (let depth = 0; current !== undefined && current > 1 && depth < MAX_TREE_DEPTH; depth++) {
    if (current === root) return true;
    current = readProcStat(current)?.ppid;
  }
  return false;
}

/**
 * True when freezing/killing the cgroup touches only the offender: not the root, never the monitor's
 * own cgroup, and either a container's cgroup or one whose members (sub-cgroups included) all descend
 * from `pid`.
 */
export function ownsCgroup(cgroup: ProcessCgroup, pid: number, monitorPid = process.pid): boolean {
  if (cgroup.path === '/' || cgroup.path === '') return false;
  const members = cgroupMembers(cgroup);
  if (members === undefined || members.length === 0 || members.includes(monitorPid)) return false;
  if (cgroup.container) return true;
  return members.every((member) => descendsFrom(member, pid));
}

/** The file and values that freeze/thaw a cgroup of this version. */
function freezeControl(cgroup: ProcessCgroup): { file: string; frozen: string; thawed: string } {
  return cgroup.version === 'v2'
    ? { file: `${cgroup.dir}/cgroup.freeze`, frozen: '1', thawed: '0' }
    : { file: `${cgroup.dir}/freezer.state`, frozen: 'FROZEN', thawed: 'THAWED' };
}

/** Freezes (true) or thaws (false) the cgroup; throws when the kernel refuses. */
export function setCgroupFrozen(cgroup: ProcessCgroup, frozen: boolean): void {
  const control = freezeControl(cgroup);
  writeFileSync(control.file, frozen ? control.frozen : control.thawed);
}

/** Kills every process in a v2 cgroup at once (`cgroup.kill`, Linux 5.14+); false when unsupported. */
export function killCgroup(cgroup: ProcessCgroup): boolean {
  const file = `${cgroup.dir}/cgroup.kill`;
  if (cgroup.version !== 'v2' || !existsSync(file)) return false;
  writeFileSync(file, '1');
  return true;
}
