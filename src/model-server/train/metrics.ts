/** Evaluation metrics of the anomalous class, as Lookout for Vision's evaluation page showed them. */
export interface Scored {
  readonly score: number;
  readonly anomalous: boolean;
}

export interface BinaryMetrics {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly accuracy: number;
  readonly confusion: { readonly tp: number; readonly fp: number; readonly tn: number; readonly fn: number };
}

export function binaryMetrics(items: readonly Scored[], threshold: number): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const { score, anomalous } of items) {
    const predicted = score >= threshold;
    if (predicted && anomalous) tp++;
    else if (predicted) fp++;
    else if (anomalous) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? (fn === 0 ? 1 : 0) : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { threshold, precision, recall, f1, accuracy: (tp + tn) / Math.max(1, items.length), confusion: { tp, fp, tn, fn } };
}

/**
 * Area under the ROC curve by the rank-sum (Mann-Whitney) statistic, ties counted half.
 * NaN when one class is absent.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k]!]) {
        pos++;
        rankSum += rank;
      }
    }
    i = j;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * AUROC over many pixels without sorting them all: scores are binned into a fine histogram per
 * class (values are bounded), which is exact up to ties within a bin.
 */
export class PixelAuroc {
  private readonly pos: Float64Array;
  private readonly neg: Float64Array;

  constructor(
    private readonly lo: number,
    private readonly hi: number,
    private readonly bins = 4096,
  ) {
    this.pos = new Float64Array(bins);
    this.neg = new Float64Array(bins);
  }

  add(scores: ArrayLike<number>, truth: ArrayLike<number>): void {
    const span = this.hi - this.lo || 1;
    for (let i = 0; i < scores.length; i++) {
      const b = Math.min(this.bins - 1, Math.max(0, Math.floor(((scores[i]! - this.lo) / span) * this.bins)));
      if (truth[i]) this.pos[b]!++;
      else this.neg[b]!++;
    }
  }

  value(): number {
    let negBelow = 0;
    let area = 0;
    let p = 0;
    let q = 0;
    for (let b = 0; b < this.bins; b++) {
      area += this.pos[b]! * (negBelow + this.neg[b]! / 2);
      negBelow += this.neg[b]!;
      p += this.pos[b]!;
      q += this.neg[b]!;
    }
    return p === 0 || q === 0 ? NaN : area / (p * q);
  }
}
