import type { HistorySource } from '../evidence/evidence-index.js';
import { ROLLUP_BUCKET_MS } from '../evidence/types.js';
import { DayKeys } from './zoned-days.js';

/**
 * Defect figures per camera and calendar day from the verdict history (its 15-minute roll-ups; a
 * `since`/`until` that is not a day boundary is rounded down to 15 minutes).
 * - inspected: every verdict; rejected: outcome `reject`; held: outcome `hold` (neither passed nor rejected).
 * - rejectRate = rejected / inspected.
 * - classes: defect classes of the *rejected* verdicts: how many rejected parts carried the class, and the
 *   total and mean of its area fraction over those parts.
 */

export interface ClassStats {
  readonly name: string;
  readonly count: number;
  readonly totalArea: number;
  readonly meanArea: number;
}

export interface ReportRow {
  readonly day: string;
  readonly cameraId: string;
  readonly inspected: number;
  readonly rejected: number;
  readonly held: number;
  readonly rejectRate: number;
  readonly classes: readonly ClassStats[];
}

export interface DefectReport {
  readonly since: string;
  readonly until: string;
  readonly timeZone: string;
  readonly cameraId: string | null;
  /** One row per (day, camera) that saw a verdict, ordered by day then camera. */
  readonly rows: readonly ReportRow[];
  /** All selected cameras summed per day. */
  readonly days: readonly ReportRow[];
  readonly total: ReportRow;
}

export interface ReportQuery {
  readonly since: number;
  readonly until: number;
  readonly timeZone: string;
  readonly cameraId?: string;
}

class Acc {
  inspected = 0;
  rejected = 0;
  held = 0;
  readonly classes = new Map<string, { count: number; totalArea: number }>();

  addCounts(c: { inspected: number; rejected: number; held: number }): void {
    this.inspected += c.inspected;
    this.rejected += c.rejected;
    this.held += c.held;
  }

  addClass(name: string, count: number, totalArea: number): void {
    const s = this.classes.get(name) ?? { count: 0, totalArea: 0 };
    s.count += count;
    s.totalArea += totalArea;
    this.classes.set(name, s);
  }

  row(day: string, cameraId: string): ReportRow {
    const classes = [...this.classes.entries()]
      .map(([name, s]) => ({ name, count: s.count, totalArea: s.totalArea, meanArea: s.count ? s.totalArea / s.count : 0 }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    return { day, cameraId, inspected: this.inspected, rejected: this.rejected, held: this.held, rejectRate: this.inspected ? this.rejected / this.inspected : 0, classes };
  }
}

/** Sums the 15-minute roll-ups into calendar days of the report's time zone (DST-safe: days are whole buckets). */
export function buildDefectReport(source: HistorySource, query: ReportQuery): DefectReport {
  const keys = new DayKeys(query.timeZone);
  const byDayCamera = new Map<string, Map<string, Acc>>();
  const byDay = new Map<string, Acc>();
  const total = new Acc();
  const accs = (cameraId: string, bucket: number): Acc[] => {
    const day = keys.day(bucket * ROLLUP_BUCKET_MS);
    let cams = byDayCamera.get(day);
    if (!cams) byDayCamera.set(day, (cams = new Map()));
    let acc = cams.get(cameraId);
    if (!acc) cams.set(cameraId, (acc = new Acc()));
    let dayAcc = byDay.get(day);
    if (!dayAcc) byDay.set(day, (dayAcc = new Acc()));
    return [acc, dayAcc, total];
  };
  const { counts, classes } = source.rollups({ since: query.since, until: query.until, ...(query.cameraId !== undefined ? { cameraId: query.cameraId } : {}) });
  for (const c of counts) for (const acc of accs(c.cameraId, c.bucket)) acc.addCounts(c);
  for (const c of classes) for (const acc of accs(c.cameraId, c.bucket)) acc.addClass(c.name, c.count, c.totalArea);
  const days = [...byDayCamera.keys()].sort();
  const all = query.cameraId ?? '*';
  return {
    since: new Date(query.since).toISOString(),
    until: new Date(query.until).toISOString(),
    timeZone: query.timeZone,
    cameraId: query.cameraId ?? null,
    rows: days.flatMap((day) => [...byDayCamera.get(day)!.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cam, acc]) => acc.row(day, cam))),
    days: days.map((day) => byDay.get(day)!.row(day, all)),
    total: total.row('total', all),
  };
}
