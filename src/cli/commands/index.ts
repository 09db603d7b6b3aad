/** The command table. Each command lives in its own file in this folder. */
import type { Command } from '../command.js';

export const COMMANDS: readonly Command[] = [];
