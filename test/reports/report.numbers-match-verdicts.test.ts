import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { Verdict } from '../../src/core/verdict.js';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import { buildDefectReport, type ReportRow } from '../../src/reports/defect-report.js';
import { createReportRoutes } from '../../src/reports/report-routes.js';
import { parseInstant } from '../../src/reports/zoned-days.js';
import { evidenceConfig, makeStore, serveRoutes, silentLog, tempDir, verdict } from '../feedback/support.js';

const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03'];
const CAMERAS = ['cam-a', 'cam-b'];

/** What the generator produced, counted as it goes: the report must say the same. */
interface Expected {
  inspected: number;
  rejected: number;
  held: number;
  classes: Map<string, { count: number; total: number }>;
}
const expected = new Map<string, Expected>();
const cleanups: (() => Promise<void>)[] = [];
let store: EvidenceStore;
let dir: string;

function generate(): Verdict[] {
  const out: Verdict[] = [];
  DAYS.forEach((day, d) => {
    CAMERAS.forEach((cameraId, c) => {
      const inspected = 10 + 5 * d + 3 * c;
      const rejected = 1 + d + c;
      const held = c;
      const e: Expected = { inspected, rejected, held, classes: new Map() };
      expected.set(`${day}|${cameraId}`, e);
      const start = Date.parse(`${day}T01:00:00Z`);
      for (let i = 0; i < inspected; i++) {
        const decidedAt = start + i * 60_000;
        const id = `${cameraId}-${day}-${i}`;
        if (i < rejected) {
          const anomalies = [{ name: 'crack', totalPercentageArea: 0.01 * (i + 1), hexColor: '#23A436' }];
          if (i % 2 === 1) anomalies.push({ name: 'dent', totalPercentageArea: 0.005, hexColor: '#0000FF' });
          for (const a of anomalies) {
            const s = e.classes.get(a.name) ?? { count: 0, total: 0 };
            e.classes.set(a.name, { count: s.count + 1, total: s.total + a.totalPercentageArea });
          }
          out.push(verdict({ id, cameraId, outcome: 'reject', anomalies, decidedAt }));
        } else if (i < rejected + held) {
          out.push(verdict({ id, cameraId, outcome: 'hold', isAnomalous: true, decidedAt }));
        } else {
          out.push(verdict({ id, cameraId, outcome: 'pass', decidedAt }));
        }
      }
    });
  });
  // Near midnight UTC: on another calendar day in Berlin (UTC+1 in November).
  out.push(verdict({ id: 'late-a', cameraId: 'cam-a', outcome: 'reject', anomalies: [{ name: 'crack', totalPercentageArea: 0.02, hexColor: '#23A436' }], decidedAt: Date.parse('2026-11-03T23:30:00Z') }));
  out.push(verdict({ id: 'early-a', cameraId: 'cam-a', outcome: 'pass', decidedAt: Date.parse('2026-10-31T23:30:00Z') }));
  return out;
}

beforeAll(async () => {
  const tmp = await tempDir('report');
  cleanups.push(tmp.cleanup);
  dir = tmp.path;
  store = makeStore(evidenceConfig(dir, { keep: { normalSampleEvery: 0 } }));
  await store.start();
  cleanups.push(() => store.stop('test end'));
  for (const v of generate()) store.record({ verdict: v });
  await store.drained();
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function expectRow(row: ReportRow | undefined, e: Expected): void {
  expect(row).toBeDefined();
  expect({ inspected: row!.inspected, rejected: row!.rejected, held: row!.held }).toEqual({ inspected: e.inspected, rejected: e.rejected, held: e.held });
  expect(row!.rejectRate).toBeCloseTo(e.rejected / e.inspected, 12);
  expect(row!.classes.map((c) => c.name).sort()).toEqual([...e.classes.keys()].sort());
  for (const c of row!.classes) {
    const s = e.classes.get(c.name)!;
    expect(c.count).toBe(s.count);
    expect(c.totalArea).toBeCloseTo(s.total, 12);
    expect(c.meanArea).toBeCloseTo(s.total / s.count, 12);
  }
}

describe('defect report', () => {
  it('per camera and UTC day: inspected, rejected, held, reject rate, classes with counts and areas, as generated', () => {
    const report = buildDefectReport(store, { since: parseInstant('2026-11-01', 'UTC', 'start'), until: parseInstant('2026-11-03', 'UTC', 'end'), timeZone: 'UTC' });
    expect(report.rows.map((r) => `${r.day}|${r.cameraId}`)).toEqual(DAYS.flatMap((d) => CAMERAS.map((c) => `${d}|${c}`)));
    for (const row of report.rows) {
      const e = expected.get(`${row.day}|${row.cameraId}`)!;
      // The late reject (23:30 UTC on the 3rd) belongs to cam-a's 3rd in UTC.
      if (row.day === '2026-11-03' && row.cameraId === 'cam-a') {
        expectRow(row, { ...e, inspected: e.inspected + 1, rejected: e.rejected + 1, classes: new Map([...e.classes, ['crack', { count: e.classes.get('crack')!.count + 1, total: e.classes.get('crack')!.total + 0.02 }]]) });
      } else {
        expectRow(row, e);
      }
    }
    const all = [...expected.values()];
    expect(report.total.inspected).toBe(all.reduce((a, e) => a + e.inspected, 0) + 1);
    expect(report.total.rejected).toBe(all.reduce((a, e) => a + e.rejected, 0) + 1);
    expect(report.days.map((d) => d.inspected)).toEqual(DAYS.map((day, i) => CAMERAS.reduce((a, c) => a + expected.get(`${day}|${c}`)!.inspected, 0) + (i === 2 ? 1 : 0)));
  });

  it('days follow --tz: a verdict at 23:30 UTC lands on the next Berlin day, and --since starts at Berlin midnight', () => {
    const tz = 'Europe/Berlin';
    const report = buildDefectReport(store, { since: parseInstant('2026-11-01', tz, 'start'), until: parseInstant('2026-11-04', tz, 'end'), timeZone: tz, cameraId: 'cam-a' });
    const byDay = Object.fromEntries(report.rows.map((r) => [r.day, r]));
    expect(Object.keys(byDay)).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04']);
    expect(byDay['2026-11-01']!.inspected).toBe(expected.get('2026-11-01|cam-a')!.inspected + 1); // early-a
    expectRow(byDay['2026-11-03'], expected.get('2026-11-03|cam-a')!);
    expect(byDay['2026-11-04']).toMatchObject({ inspected: 1, rejected: 1, rejectRate: 1 });
    expect(report.rows.every((r) => r.cameraId === 'cam-a')).toBe(true);
  });

  it('lookout-edge report writes the same figures as CSV', async () => {
    const out = join(dir, 'report.csv');
    const code = await runCli(['report', '--evidence', dir, '--since', '2026-11-01', '--until', '2026-11-02', '--format', 'csv', '--out', out]);
    expect(code).toBe(0);
    const [header, ...lines] = (await readFile(out, 'utf8')).trim().split('\n');
    expect(header).toBe('day,camera,inspected,rejected,held,reject_rate,crack_count,crack_total_area,crack_mean_area,dent_count,dent_total_area,dent_mean_area');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const [day, camera, inspected, rejected, held, rate, crackCount, crackTotal, , dentCount] = line.split(',');
      const e = expected.get(`${day}|${camera}`)!;
      expect([Number(inspected), Number(rejected), Number(held), Number(crackCount), Number(dentCount ?? 0)]).toEqual([
        e.inspected,
        e.rejected,
        e.held,
        e.classes.get('crack')?.count ?? 0,
        e.classes.get('dent')?.count ?? 0,
      ]);
      expect(Number(rate)).toBeCloseTo(e.rejected / e.inspected, 5);
      expect(Number(crackTotal)).toBeCloseTo(e.classes.get('crack')!.total, 5);
    }
    expect(await runCli(['report', '--evidence', dir, '--since', 'yesterday'])).toBe(64);
    expect(await runCli(['report', '--evidence', dir, '--since', '2026-11-01', '--tz', 'Mars/Olympus'])).toBe(64);
  });

  it('serves the report as JSON and as a chart page over HTTP', async () => {
    const server = await serveRoutes(createReportRoutes({ history: store, log: silentLog() }));
    cleanups.push(server.close);
    const res = await fetch(`${server.base}/api/report?since=2026-11-01&until=2026-11-03&camera=cam-b`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { rows: ReportRow[]; days: ReportRow[] };
    expect(json.rows).toHaveLength(3);
    for (const row of json.rows) expectRow(row, expected.get(`${row.day}|cam-b`)!);
    const csv = await fetch(`${server.base}/api/report?since=2026-11-01&until=2026-11-01&format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect((await csv.text()).trim().split('\n')).toHaveLength(3);

    const page = await (await fetch(`${server.base}/report?since=2026-11-01&until=2026-11-03`)).text();
    expect(page).toContain('<svg');
    expect(page.match(/<rect /g)).toHaveLength(DAYS.length * 2);
    expect(page).toContain('<polyline');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    const bad = await fetch(`${server.base}/api/report?since=2026-11-05&until=2026-11-01`);
    expect(bad.status).toBe(400);
    expect((await fetch(`${server.base}/api/report?tz=Nowhere/Land`)).status).toBe(400);
    expect((await fetch(`${server.base}/api/report`, { method: 'POST' })).status).toBe(405);
  });
});
