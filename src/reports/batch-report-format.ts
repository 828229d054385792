import type { BatchRow } from './batch-inspection.js';

const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const num = (v: number | null, digits = 6) => (v === null ? '' : Number(v.toFixed(digits)).toString());

/** file, is_anomalous, score, threshold, confidence, classes (`name:area;…`), mask, ms, error. */
export function batchRowsToCsv(rows: readonly BatchRow[]): string {
  const header = 'file,is_anomalous,score,threshold,confidence,classes,mask,ms,error';
  const lines = rows.map((r) =>
    [
      cell(r.file),
      r.isAnomalous === null ? '' : String(r.isAnomalous),
      num(r.score),
      num(r.threshold),
      num(r.confidence),
      cell(r.classes.map((c) => `${c.name}:${num(c.area)}`).join(';')),
      cell(r.mask ?? ''),
      num(r.ms, 1),
      cell(r.error ? `${r.error.code}: ${r.error.message}` : ''),
    ].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

export function batchRowsToJson(rows: readonly BatchRow[], summary: Record<string, unknown>): string {
  return `${JSON.stringify({ ...summary, rows }, null, 2)}\n`;
}
