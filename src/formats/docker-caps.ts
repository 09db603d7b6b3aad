/**
 * Docker's default capability set: the bounding set a container gets without --cap-add/--cap-drop.
 * Docker's seccomp profile decides with it which `includes.caps` / `excludes.caps` entries apply.
 * Source: moby/moby oci/caps/defaults.go, DefaultCapabilities() (unchanged since Docker 20.10).
 */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Normalizes a capability the way `docker run --cap-add` accepts it: case-insensitive, `CAP_` optional.
 * Returns undefined for text that is not a capability-shaped name.
 */
export function normalizeCapability(text: string): string | undefined {
  const upper = text.trim().toUpperCase();
  if (!/^[A-Z_]+$/.test(upper)) return undefined;
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}
