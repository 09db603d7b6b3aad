/** `--now YYYY-MM-DD`: the day governance commands (check, review) judge dates against; tests pin it. */
import { parseDay } from '../policy/lint-governance.js';
import { optionValue, UsageError, type ParsedArgs } from './args.js';

/** The --now date (midnight UTC), or the current time when the option is absent. */
export function nowOption(args: ParsedArgs): Date {
  const text = optionValue(args, 'now');
  if (text === undefined) return new Date();
  const day = parseDay(text);
  if (day === undefined) throw new UsageError(`--now needs a date YYYY-MM-DD, got '${text}'`);
  return new Date(day * 86_400_000);
}
