/** Running the real AppArmor and audit tools in tests: a missing tool fails with its install hint. */
import { spawnSync } from 'node:child_process';

export interface ToolRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args`; throws with `apt-get install -y <pkg>` when the command is not installed. */
export function runTool(command: string, args: readonly string[], debianPackage: string): ToolRun {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `${command} is not installed: apt-get install -y ${debianPackage}`
        : `${command} failed to run: ${result.error.message}`,
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
