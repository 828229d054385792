import { basename } from 'node:path';
import type { EvaluationReport } from './evaluate.js';

/**
 * Side-by-side evaluation of several models on the same test entries (before promoting a retrained
 * one): the first report is the baseline, the last the candidate; deltas are candidate − baseline.
 */
export interface Comparison {
  readonly models: readonly { readonly dir: string; readonly report: EvaluationReport }[];
  readonly deltas: {
    readonly precision: number;
    readonly recall: number;
    readonly f1: number;
    readonly accuracy: number;
    readonly imageAuroc: number;
  };
  /** The candidate's F1 is at least the baseline's. */
  readonly candidateNotWorse: boolean;
}

export function compareReports(models: readonly { dir: string; report: EvaluationReport }[]): Comparison {
  if (models.length < 2) throw new RangeError('a comparison needs at least two models');
  const base = models[0]!.report;
  const cand = models[models.length - 1]!.report;
  const d = (a: number, b: number): number => a - b;
  return {
    models,
    deltas: {
      precision: d(cand.metrics.precision, base.metrics.precision),
      recall: d(cand.metrics.recall, base.metrics.recall),
      f1: d(cand.metrics.f1, base.metrics.f1),
      accuracy: d(cand.metrics.accuracy, base.metrics.accuracy),
      imageAuroc: d(cand.imageAuroc, base.imageAuroc),
    },
    candidateNotWorse: cand.metrics.f1 >= base.metrics.f1,
  };
}

const num = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const signed = (v: number): string => (Number.isNaN(v) ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`);

/** The table the CLI prints: one column per model, then Δ (last − first). */
export function comparisonText(c: Comparison): string {
  const cols = c.models.map((m, i) => `${i === 0 ? 'baseline' : i === c.models.length - 1 ? 'candidate' : `model ${i + 1}`}`);
  const width = Math.max(14, ...c.models.map((m) => `${m.report.model.name} ${m.report.model.version}`.length + 2));
  const row = (label: string, cells: readonly string[], delta?: string): string =>
    `${label.padEnd(18)}${cells.map((s) => s.padStart(width)).join('')}${delta !== undefined ? delta.padStart(10) : ''}`;
  const first = c.models[0]!.report;
  const images = first.images;
  const anomalous = first.metrics.confusion.tp + first.metrics.confusion.fn;
  const lines = [
    `${c.models.length} models on the same ${images} test images (${anomalous} anomalous, ${images - anomalous} normal)`,
    ...c.models.map((m, i) => `  ${cols[i]}: ${m.report.model.name} ${m.report.model.version} (${m.report.model.runtime}) from ${m.dir}, threshold ${m.report.threshold}`),
    '',
    row('', c.models.map((m) => `${m.report.model.name} ${m.report.model.version}`), 'Δ'),
    row('precision', c.models.map((m) => num(m.report.metrics.precision)), signed(c.deltas.precision)),
    row('recall', c.models.map((m) => num(m.report.metrics.recall)), signed(c.deltas.recall)),
    row('F1', c.models.map((m) => num(m.report.metrics.f1)), signed(c.deltas.f1)),
    row('accuracy', c.models.map((m) => num(m.report.metrics.accuracy)), signed(c.deltas.accuracy)),
    row('image AUROC', c.models.map((m) => num(m.report.imageAuroc)), signed(c.deltas.imageAuroc)),
    row('pixel AUROC', c.models.map((m) => num(m.report.pixelAuroc))),
    row('true anomaly', c.models.map((m) => String(m.report.metrics.confusion.tp))),
    row('missed anomaly', c.models.map((m) => String(m.report.metrics.confusion.fn))),
    row('false alarm', c.models.map((m) => String(m.report.metrics.confusion.fp))),
    row('true normal', c.models.map((m) => String(m.report.metrics.confusion.tn))),
    row('ms / image', c.models.map((m) => m.report.meanInferMs.toFixed(1))),
    '',
    c.candidateNotWorse ? `candidate F1 is not lower than the baseline's (${signed(c.deltas.f1)})` : `candidate F1 is LOWER than the baseline's (${signed(c.deltas.f1)})`,
    'images the models disagree on (score, verdict per model; label):',
    ...disagreements(c),
  ];
  return `${lines.join('\n')}\n`;
}

function disagreements(c: Comparison): string[] {
  const out: string[] = [];
  const n = c.models[0]!.report.perImage.length;
  for (let i = 0; i < n; i++) {
    const per = c.models.map((m) => m.report.perImage[i]!);
    if (per.every((p) => p.predicted === per[0]!.predicted)) continue;
    const cells = per.map((p) => `${p.score.toFixed(4)} ${p.predicted ? 'anomaly' : 'normal '}${p.predicted === p.anomalous ? ' ' : '✗'}`);
    out.push(`  ${basename(per[0]!.image).padEnd(28)} ${cells.join('  ')}  (${per[0]!.anomalous ? 'anomaly' : 'normal'})`);
  }
  return out.length > 0 ? out : ['  none'];
}

/** Per-image scores of every model, long format: one row per model and image. */
export function comparisonCsv(c: Comparison): string {
  const rows = ['model,version,image,label,predicted,anomaly_score,confidence,infer_ms'];
  for (const m of c.models) {
    for (const p of m.report.perImage) {
      rows.push([cell(m.report.model.name), cell(m.report.model.version), cell(p.image), p.anomalous ? 'anomaly' : 'normal', p.predicted ? 'anomaly' : 'normal', p.score.toFixed(6), p.confidence.toFixed(6), p.ms.toFixed(2)].join(','));
    }
  }
  return `${rows.join('\n')}\n`;
}

function cell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
