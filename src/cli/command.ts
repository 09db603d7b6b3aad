/** The shape every CLI command has; main.ts dispatches on `name`. */
import type { OptionSpec, ParsedArgs } from './args.js';

/** Where a command writes; tests capture these instead of the process streams. */
export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface Command {
  readonly name: string;
  /** One line for `sysfence help`. */
  readonly summary: string;
  /** Usage text shown by `sysfence help NAME` and on usage errors. */
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  /** Returns the process exit code. */
  readonly run: (args: ParsedArgs, io: CommandIO) => Promise<number>;
}
