/**
 * sysfence command-line entry: dispatches to a command, turns errors into messages and exit codes.
 * Exit codes: 0 success, 1 the command's own failure (a finding, a denied check), 2 bad usage or input.
 */
import { parseArgs, UsageError } from './args.js';
import type { CommandIO } from './command.js';
import { COMMANDS } from './commands/index.js';
import { formatError } from './errors.js';

const PROCESS_IO: CommandIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: sysfence COMMAND [ARGS...]\n\ncommands:\n${lines.join('\n')}\n\nsysfence help COMMAND shows a command's options.\n`;
}

export async function main(argv: readonly string[], io: CommandIO = PROCESS_IO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    io.stdout(topic ? topic.usage : helpText());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`sysfence: unknown command '${name}'\n\n${helpText()}`);
    return 2;
  }
  try {
    const args = parseArgs(rest, [...command.options, { name: 'help', short: 'h' }]);
    if (args.options.has('help')) {
      io.stdout(command.usage);
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    io.stderr(formatError(error));
    if (error instanceof UsageError) io.stderr(`\n${command.usage}`);
    return 2;
  }
}
