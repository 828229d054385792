import { LookoutError } from '../core/errors.js';

const DAY_MS = 86_400_000;
/** Every time zone offset in use is a multiple of 15 minutes, so the calendar day is constant in such a bucket. */
const BUCKET_MS = 15 * 60_000;

export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone });
  } catch {
    throw new LookoutError('USAGE', `unknown time zone ${timeZone} (use an IANA name such as Europe/Berlin, or UTC)`);
  }
}

/** Calendar days (`YYYY-MM-DD`) of instants in one time zone, cached per 15-minute bucket. */
export class DayKeys {
  private readonly format: Intl.DateTimeFormat;
  private readonly cache = new Map<number, string>();

  constructor(readonly timeZone: string) {
    assertTimeZone(timeZone);
    this.format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  day(ms: number): string {
    const bucket = Math.floor(ms / BUCKET_MS);
    let key = this.cache.get(bucket);
    if (key === undefined) {
      const parts = Object.fromEntries(this.format.formatToParts(bucket * BUCKET_MS).map((p) => [p.type, p.value]));
      key = `${parts.year}-${parts.month}-${parts.day}`;
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(bucket, key);
    }
    return key;
  }
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (positive east of Greenwich). */
function offsetAt(ms: number, timeZone: string): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant a calendar day starts in a time zone (DST-aware). */
export function startOfDay(day: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new LookoutError('USAGE', `expected a day as YYYY-MM-DD, got ${day}`);
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(guess)) throw new LookoutError('USAGE', `not a date: ${day}`);
  const first = guess - offsetAt(guess, timeZone);
  return guess - offsetAt(first, timeZone);
}

/**
 * A `--since`/`--until` argument: `YYYY-MM-DD` is that day's start in the time zone (for `until`, the end of
 * that day: the day is included); anything else must be an ISO 8601 instant.
 */
export function parseInstant(text: string, timeZone: string, edge: 'start' | 'end'): number {
  assertTimeZone(timeZone);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const start = startOfDay(text, timeZone);
    if (edge === 'start') return start;
    const next = new Date(start + DAY_MS + 12 * 3_600_000); // noon of the next day, safe across DST
    return startOfDay(new DayKeys(timeZone).day(next.getTime()), timeZone);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new LookoutError('USAGE', `not a date or ISO 8601 instant: ${text}`);
  return ms;
}
