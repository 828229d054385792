import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.js';
import type { HistorySource } from '../evidence/evidence-index.js';
import { HttpError, type RouteHandler, requireMethod, sendBody, sendError } from '../evidence/http.js';
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

/**
 * `GET /api/report?since=&until=&camera=&tz=&format=json|csv` and `GET /report` (the chart page), mounted
 * inside the status server like the review routes. Returns false for paths that are not its own.
 * since/until take `YYYY-MM-DD` (days in `tz`, until inclusive) or ISO instants; default: the last 14 days.
 */
export function createReportRoutes(deps: ReportRoutesDeps): RouteHandler {
  const now = deps.now ?? Date.now;
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname !== '/report' && url.pathname !== '/api/report') return false;
    try {
      requireMethod(req, ['GET', 'HEAD']);
      const tz = url.searchParams.get('tz') || deps.timeZone || 'UTC';
      const keys = new DayKeys(tz);
      const since = url.searchParams.get('since') || keys.day(now() - (DEFAULT_DAYS - 1) * 86_400_000);
      const until = url.searchParams.get('until') || keys.day(now());
      const camera = url.searchParams.get('camera') || '';
      let range: { since: number; until: number };
      try {
        range = { since: parseInstant(since, tz, 'start'), until: parseInstant(until, tz, 'end') };
      } catch (err) {
        throw new HttpError(400, 'USAGE', (err as Error).message);
      }
      if (range.until <= range.since) throw new HttpError(400, 'USAGE', 'until must be after since');
      if (range.until - range.since > MAX_SPAN_MS) throw new HttpError(400, 'USAGE', 'at most 400 days per report');
      const report = buildDefectReport(deps.history, { ...range, timeZone: tz, ...(camera ? { cameraId: camera } : {}) });
      if (url.pathname === '/report') {
        sendBody(res, 200, 'text/html; charset=utf-8', reportPage(report, { since, until, camera, tz }), { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'" });
      } else if (url.searchParams.get('format') === 'csv') {
        sendBody(res, 200, 'text/csv; charset=utf-8', reportToCsv(report));
      } else {
        sendBody(res, 200, 'application/json; charset=utf-8', reportToJson(report));
      }
      return true;
    } catch (err) {
      if (!(err instanceof HttpError)) deps.log.warn({ err }, 'report route failed');
      sendError(res, err);
      return true;
    }
  };
}
