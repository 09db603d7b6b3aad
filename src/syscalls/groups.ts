/** Named syscall groups (systemd-compatible @groups). STUB: being filled in. */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  '@basic-io': ['read', 'write', 'close', 'lseek'],
};

/** The syscall names of a group (nested groups expanded), or undefined if the group is unknown. */
export function expandGroup(name: string): readonly string[] | undefined {
  return GROUPS[name];
}

export function groupNames(): readonly string[] {
  return Object.keys(GROUPS);
}
