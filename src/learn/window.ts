/**
 * `--since` windows: a duration back from now (`36h`, `14d`, `2w`) or a date (`2026-11-20`, an ISO
 * timestamp). Anything else is an error: a misread window would silently drop or admit events.
 */

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const DURATION = /^([1-9][0-9]{0,5})([hdw])$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2}))?$/;

/** The start of the window (ms since the epoch) that `text` names, counting durations back from `now`. */
export function parseSince(text: string, now: number): number {
  const duration = DURATION.exec(text);
  if (duration !== null) return now - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number);
  if (DATE.test(text)) {
    const time = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (Number.isFinite(time)) return time;
  }
  throw new Error(
    `--since needs a duration (36h, 14d, 2w) or a date (YYYY-MM-DD or ISO time), got '${text}'`,
  );
}
