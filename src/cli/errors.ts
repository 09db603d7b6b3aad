/** Turns any thrown error into the one-message form the CLI prints. */
import { PolicyError } from '../policy/errors.js';

export function formatError(error: unknown): string {
  if (error instanceof PolicyError) return `${error.format()}\n`;
  if (error instanceof Error) return `sysfence: error: ${error.message}\n`;
  return `sysfence: error: ${String(error)}\n`;
}
