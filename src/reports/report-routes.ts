import type { Logger } from '../core/log.js';
import type { HistorySource } from '../evidence/evidence-index.js';
import { httpError, send } from '../status/http-io.js';
import { type Mount, mountRoutes, type RequestContext } from '../status/router.js';
import { buildDefectReport } from './defect-report.js';
import { reportToCsv, reportToJson } from './report-format.js';
import { reportPage } from './report-page.js';
import { DayKeys, parseInstant } from './zoned-days.js';

export interface ReportRoutesDeps {
  readonly history: HistorySource;
  readonly log: Logger;
  /** Default time zone for days (`UTC` unless set). */
  readonly timeZone?: string;
  readonly now?: () => number;
}

const DEFAULT_DAYS = 14;
const MAX_SPAN_MS = 400 * 86_400_000;
const REPORT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

/**
 * `GET /api/report?since=&until=&camera=&tz=&format=json|csv` and `GET /report` (the chart page), mounted
 * inside the status server like the review routes. Returns false for paths that are not its own.
 * since/until take `YYYY-MM-DD` (days in `tz`, until inclusive) or ISO instants; default: the last 14 days.
 */
export function createReportRoutes(deps: ReportRoutesDeps): Mount {
  const now = deps.now ?? Date.now;
  const answer = ({ res, url }: RequestContext): void => {
    const tz = url.searchParams.get('tz') || deps.timeZone || 'UTC';
    const keys = new DayKeys(tz);
    const since = url.searchParams.get('since') || keys.day(now() - (DEFAULT_DAYS - 1) * 86_400_000);
    const until = url.searchParams.get('until') || keys.day(now());
    const camera = url.searchParams.get('camera') || '';
    let range: { since: number; until: number };
    try {
      range = { since: parseInstant(since, tz, 'start'), until: parseInstant(until, tz, 'end') };
    } catch (err) {
      throw httpError('USAGE', (err as Error).message);
    }
    if (range.until <= range.since) throw httpError('USAGE', 'until must be after since');
    if (range.until - range.since > MAX_SPAN_MS) throw httpError('USAGE', 'at most 400 days per report');
    const report = buildDefectReport(deps.history, { ...range, timeZone: tz, ...(camera ? { cameraId: camera } : {}) });
    if (url.pathname === '/report') {
      send(res, 200, 'text/html; charset=utf-8', reportPage(report, { since, until, camera, tz }), { 'content-security-policy': REPORT_PAGE_CSP });
    } else if (url.searchParams.get('format') === 'csv') {
      send(res, 200, 'text/csv; charset=utf-8', reportToCsv(report));
    } else {
      send(res, 200, 'application/json; charset=utf-8', reportToJson(report));
    }
  };
  return mountRoutes({ routes: [{ method: 'GET', pattern: /^\/(api\/)?report$/, handle: answer }], log: deps.log });
}
