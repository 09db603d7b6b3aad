/** The command table. Each command lives in its own file in this folder. */
import type { Command } from '../command.js';
import { checkCommand } from './check.js';
import { compileCommand } from './compile.js';
import { convertCommand } from './convert.js';
import { diffCommand } from './diff.js';
import { disasmCommand } from './disasm.js';
import { emuCommand } from './emu.js';
import { explainCommand } from './explain.js';
import { learnCommand } from './learn.js';
import { monitorCommand } from './monitor.js';
import { probeCommand } from './probe.js';
import { recordCommand } from './record.js';
import { reviewCommand } from './review.js';
import { runCommand } from './run.js';

export const COMMANDS: readonly Command[] = [
  compileCommand,
  explainCommand,
  disasmCommand,
  emuCommand,
  convertCommand,
  runCommand,
  probeCommand,
  recordCommand,
  learnCommand,
  monitorCommand,
  checkCommand,
  diffCommand,
  reviewCommand,
];
