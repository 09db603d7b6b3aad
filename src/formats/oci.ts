/**
 * OCI runtime-spec / Docker seccomp interop: import with runc + libseccomp semantics, export that runc,
 * crun, Docker, Podman and containerd accept. docs/oci.md describes both directions.
 */
export {
  importOci,
  RUNC_BAD_ARCH_ACTION,
  type OciImportOptions,
  type OciImportResult,
} from './oci-import.js';
export { exportOci, type OciExportResult } from './oci-export.js';
export { policyToYaml } from './oci-yaml.js';
