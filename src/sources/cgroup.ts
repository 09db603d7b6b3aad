/**
 * Containers from cgroups: which container a process belongs to (from /proc/PID/cgroup) and where a
 * container's processes live in the cgroup v2 tree (for eBPF's `cgroup == cgroupid(PATH)` filter).
 * Runtimes name their cgroups differently (docker, containerd/cri-containerd, cri-o, podman/libpod), by
 * systemd scope (`docker-ID.scope`) or by plain directory (`/docker/ID`); all put the 64-hex id in a
 * path segment, which is what we look for.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A full container id: docker, containerd, cri-o and podman all use 64 lower-case hex digits. */
const FULL_ID = '[0-9a-f]{64}';

/**
 * One cgroup path segment that names a container: `docker-ID.scope`, `cri-containerd-ID.scope`,
 * `crio-ID.scope`, `libpod-ID.scope` (systemd driver), `crio-ID`, `libpod-ID` or a bare `ID` (cgroupfs).
 * conmon's own scopes (`crio-conmon-ID`, `libpod-conmon-ID`) name the monitor, not the container,
 * and do not match because `conmon-` is not in the prefix list.
 */
const CONTAINER_SEGMENT = new RegExp(
  `^(?:(?:docker|cri-containerd|crio|libpod)-(${FULL_ID})\\.scope|(?:crio-|libpod-)?(${FULL_ID}))$`,
);

/** The id a single cgroup path names: the innermost container segment (nested runtimes name the inner one last). */
function containerIdFromPath(path: string): string | undefined {
  const segments = path.split('/');
  for (let index = segments.length - 1; index >= 0; index--) {
    const match = CONTAINER_SEGMENT.exec(segments[index] ?? '');
    if (match !== null) return match[1] ?? match[2];
  }
  return undefined;
}

/** The cgroup path of one `/proc/PID/cgroup` line (`hierarchy:controllers:path`), or undefined if not one. */
function cgroupPathOfLine(line: string): { unified: boolean; path: string } | undefined {
  const first = line.indexOf(':');
  const second = first < 0 ? -1 : line.indexOf(':', first + 1);
  if (second < 0) return undefined;
  // The path may itself hold ':' (it is the rest of the line), so split only twice.
  return { unified: line.slice(0, second) === '0:', path: line.slice(second + 1) };
}

/** The container id a /proc/PID/cgroup text names (docker, containerd/cri-containerd, cri-o, podman/libpod; cgroup v1 and v2), or undefined. */
export function containerIdFromCgroup(text: string): string | undefined {
  const lines = text.split('\n').flatMap((line) => cgroupPathOfLine(line) ?? []);
  // The unified (v2) line is authoritative when it names a container; v1 controllers may lag behind.
  const ordered = [...lines.filter((line) => line.unified), ...lines.filter((line) => !line.unified)];
  for (const line of ordered) {
    const id = containerIdFromPath(line.path);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** The container id of a running process, from /proc/PID/cgroup (procRoot default '/proc'); undefined if none or the process is gone. */
export async function containerIdOfPid(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(procRoot, String(pid), 'cgroup'), 'utf8');
  } catch {
    return undefined; // the process exited: it has no container any more
  }
  return containerIdFromCgroup(text);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The cgroup v2 mount: the root itself on a unified host, `ROOT/unified` on a hybrid (v1+v2) host.
 * A cgroup v2 directory is told by its `cgroup.controllers` file, which v1 hierarchies do not have.
 */
async function unifiedRoot(cgroupRoot: string): Promise<string | undefined> {
  for (const candidate of [cgroupRoot, join(cgroupRoot, 'unified')]) {
    if (await exists(join(candidate, 'cgroup.controllers'))) return candidate;
  }
  return undefined;
}

/** The directories where runtimes put a container directly (no pod uid in the path). */
function directLayouts(id: string): string[] {
  return [
    `system.slice/docker-${id}.scope`, // docker, systemd driver
    `docker/${id}`, // docker, cgroupfs driver
    `system.slice/cri-containerd-${id}.scope`, // containerd outside kubernetes, systemd driver
    `machine.slice/libpod-${id}.scope`, // podman (root), systemd driver
    `libpod_parent/libpod-${id}`, // podman, cgroupfs driver
    `system.slice/crio-${id}.scope`, // cri-o outside a pod slice
  ];
}

/** Directories searched below the root for layouts whose path holds a pod uid or a user's slice. */
const SEARCHED_SUBTREES = ['kubepods.slice', 'kubepods', 'user.slice', 'machine.slice', 'system.slice'];
/** kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUID.slice/cri-containerd-ID.scope is 3 below kubepods.slice; rootless podman is deeper. */
const MAX_SEARCH_DEPTH = 7;

/** Breadth-first search below `top` for directories naming a container whose id starts with `id`. */
async function searchSubtree(top: string, id: string): Promise<string[]> {
  const found: string[] = [];
  let level = [top];
  for (let depth = 0; depth < MAX_SEARCH_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const directory of level) {
      let names: string[];
      try {
        names = (await readdir(directory, { withFileTypes: true }))
          .filter((e) => e.isDirectory())
          .map((e) => e.name);
      } catch {
        continue; // a cgroup removed while we walk
      }
      for (const name of names) {
        // A container's own sub-cgroups (init.scope ...) are not searched: the container's directory is the answer.
        if (containerIdFromPath(name)?.startsWith(id)) found.push(join(directory, name));
        else next.push(join(directory, name));
      }
    }
    level = next;
  }
  return found;
}

/** Docker and podman print 12-digit short ids; a prefix must name exactly one container. */
const ID_OR_PREFIX = /^[0-9a-f]{12,64}$/;

/** The cgroup v2 directory (under /sys/fs/cgroup) holding a container's processes, searching the layouts of docker, containerd, cri-o, podman (systemd and cgroupfs drivers); throws a clear Error naming the paths tried. */
export async function cgroupPathOfContainer(id: string, cgroupRoot = '/sys/fs/cgroup'): Promise<string> {
  if (!ID_OR_PREFIX.test(id)) {
    throw new Error(
      `container id '${id}' must be 12 to 64 lower-case hex digits (docker ps / crictl ps print them)`,
    );
  }
  const root = await unifiedRoot(cgroupRoot);
  if (root === undefined) {
    throw new Error(
      `no cgroup v2 hierarchy at ${cgroupRoot} or ${join(cgroupRoot, 'unified')} (no cgroup.controllers file); eBPF cgroup filters need cgroup v2`,
    );
  }
  const direct = id.length === 64 ? directLayouts(id).map((layout) => join(root, layout)) : [];
  for (const path of direct) if (await isDirectory(path)) return path;
  const subtrees = SEARCHED_SUBTREES.map((name) => join(root, name));
  const found = new Set<string>();
  for (const subtree of subtrees) for (const path of await searchSubtree(subtree, id)) found.add(path);
  const ids = new Set([...found].map((path) => containerIdFromPath(path)));
  if (ids.size > 1) throw new Error(`container id prefix '${id}' is ambiguous: ${[...found].join(', ')}`);
  const [path] = found;
  if (path !== undefined) return path;
  const tried = direct.length > 0 ? `tried ${direct.join(', ')} and ` : '';
  throw new Error(
    `no cgroup v2 directory for container ${id}; ${tried}searched ${MAX_SEARCH_DEPTH} levels below ${subtrees.join(', ')}`,
  );
}
