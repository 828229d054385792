import type { DefectReport, ReportRow } from './defect-report.js';

function csvCell(value: string | number): string {
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(6)) : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One line per (day, camera): day, camera, inspected, rejected, held, reject_rate, then for every defect
 * class seen in the report `<class>_count`, `<class>_total_area`, `<class>_mean_area` (areas are fractions).
 */
export function reportToCsv(report: DefectReport): string {
  const classNames = [...new Set(report.rows.flatMap((r) => r.classes.map((c) => c.name)))].sort();
  const header = ['day', 'camera', 'inspected', 'rejected', 'held', 'reject_rate', ...classNames.flatMap((n) => [`${n}_count`, `${n}_total_area`, `${n}_mean_area`])];
  const line = (r: ReportRow) => {
    const byName = new Map(r.classes.map((c) => [c.name, c]));
    const cells: (string | number)[] = [r.day, r.cameraId, r.inspected, r.rejected, r.held, r.rejectRate];
    for (const n of classNames) {
      const c = byName.get(n);
      cells.push(c?.count ?? 0, c?.totalArea ?? 0, c?.meanArea ?? 0);
    }
    return cells.map(csvCell).join(',');
  };
  return [header.map(csvCell).join(','), ...report.rows.map(line)].join('\n') + '\n';
}

export function reportToJson(report: DefectReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
