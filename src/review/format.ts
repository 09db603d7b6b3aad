/** Numbers and dates formatted for the report's language with Intl (dates are UTC days). */
import type { Lang } from './messages.js';

export interface Formatter {
  readonly locale: string;
  /** An integer or decimal with the locale's grouping. */
  readonly number: (value: number) => string;
  /** A YYYY-MM-DD day in the locale's medium date style. */
  readonly day: (day: string) => string;
  /** A YYYY-MM-DD day, short (axis labels). */
  readonly shortDay: (day: string) => string;
  /** An ISO instant with date and time, in UTC. */
  readonly instant: (iso: string) => string;
}

const LOCALES: Readonly<Record<Lang, string>> = { en: 'en-GB', zh: 'zh-CN' };

/** The BCP 47 locale a report language is written in. */
export function localeOf(lang: Lang): string {
  return LOCALES[lang];
}

/** Formats a YYYY-MM-DD day; anything else (an unreadable metadata date) is shown as written. */
function formatDayWith(format: Intl.DateTimeFormat, day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(date.getTime()) ? format.format(date) : day;
}

/** A formatter for `lang`. */
export function formatterFor(lang: Lang): Formatter {
  const locale = localeOf(lang);
  const numbers = new Intl.NumberFormat(locale);
  const days = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const shortDays = new Intl.DateTimeFormat(locale, { month: 'numeric', day: 'numeric', timeZone: 'UTC' });
  const instants = new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  });
  return {
    locale,
    number: (value) => numbers.format(value),
    day: (day) => formatDayWith(days, day),
    shortDay: (day) => formatDayWith(shortDays, day),
    instant: (iso) => `${instants.format(new Date(iso))} UTC`,
  };
}
