/** The channel between `run` and its launcher: which descriptors carry what, and the failure record. */

/** fd the launcher reads its plan from (JSON, until EOF). */
export const PLAN_FD = 3;
/** fd the launcher reports a failure on; close-on-exec, so it reads empty when the exec succeeded. */
export const STATUS_FD = 4;

/** Exit code when sysfence could not start the command at all (as `docker run` uses it). */
export const LAUNCH_FAILED_EXIT = 125;

/** What the launcher writes on STATUS_FD when it gives up before or at execve. */
export interface LaunchFailure {
  readonly message: string;
  readonly exitCode: number;
}
