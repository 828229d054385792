/**
 * Threshold choice. From normal images only: above the held-out normal scores (each training
 * image scored against a memory bank without its own patches), at max(largest, mean + 3σ). With
 * anomalous images: the cut maximising F1 over held-out normals and anomalies (placed in the middle
 * of the widest gap among equally good cuts), drawn towards the held-out normals' NORMAL_QUANTILE as
 * a weighted mean in which the quantile counts as NORMAL_WEIGHT anomalies. A handful of anomalies
 * places the max-F1 cut where they happen to fall (5 anomalies: halfway to the quantile); many of
 * them outweigh it (32: the quantile keeps 0.14 of the say).
 */
export interface ImageCalibration {
  readonly rawThreshold: number;
  readonly scale: number;
  readonly method: 'normal-quantile' | 'max-f1' | 'max-f1+normals';
}

/** The held-out normal score quantile that the anomalies' max-F1 cut is averaged with. */
export const NORMAL_QUANTILE = 0.9;
/** How many calibration anomalies the normals' quantile weighs as. */
export const NORMAL_WEIGHT = 5;

/** The q-quantile of `values` (linear between order statistics). */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = Math.min(s.length - 1, Math.max(0, q * (s.length - 1)));
  const lo = Math.floor(at);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = Math.max(1, values.length);
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / n);
  return { mean, std };
}

export function calibrateImage(normal: readonly number[], anomalous: readonly number[]): ImageCalibration {
  const cut = maxF1(normal, anomalous);
  if (anomalous.length === 0) return cut;
  const n = anomalous.length;
  const rawThreshold = (n * cut.rawThreshold + NORMAL_WEIGHT * quantile(normal, NORMAL_QUANTILE)) / (n + NORMAL_WEIGHT);
  return { ...cut, rawThreshold, method: 'max-f1+normals' };
}

/** From normals only: above them all; with anomalies: the max-F1 cut (see `calibrateImage`). */
function maxF1(normal: readonly number[], anomalous: readonly number[]): ImageCalibration {
  const { mean, std } = meanStd(normal);
  const max = Math.max(...normal);
  const scale = Math.max(std, 1e-3 * Math.max(1e-6, Math.abs(mean)), 1e-6);
  if (anomalous.length === 0) return { rawThreshold: Math.max(max, mean + 3 * std), scale, method: 'normal-quantile' };
  const all = [...normal.map((s) => ({ s, y: 0 })), ...anomalous.map((s) => ({ s, y: 1 }))].sort((a, b) => a.s - b.s);
  let best = { f1: -1, gap: -1, t: max };
  for (let i = 0; i < all.length; i++) {
    const lo = i === 0 ? all[0]!.s - scale : all[i - 1]!.s;
    const hi = all[i]!.s;
    if (hi === lo && i > 0) continue;
    // Cut between lo and hi: items at or above index i are called anomalous.
    let tp = 0;
    let fp = 0;
    for (let j = i; j < all.length; j++) {
      if (all[j]!.y) tp++;
      else fp++;
    }
    const f1 = (2 * tp) / (2 * tp + fp + (anomalous.length - tp));
    const gap = hi - lo;
    if (f1 > best.f1 + 1e-12 || (Math.abs(f1 - best.f1) <= 1e-12 && gap > best.gap)) best = { f1, gap, t: (lo + hi) / 2 };
  }
  return { rawThreshold: best.t, scale, method: 'max-f1' };
}

/**
 * Pixel threshold. With ground-truth masks: the value maximising pixel F1 (Dice) over the
 * anomalous images' maps; never below the median held-out normal maximum, so normal texture stays
 * unpainted. Without masks: the 99.9th percentile of held-out normal map values.
 */
export function calibratePixel(normalValues: Float32Array, masked: readonly { values: Float32Array; truth: Uint8Array }[], normalMaxima: readonly number[]): number {
  const sortedNormal = Float32Array.from(normalValues).sort();
  const q999 = sortedNormal[Math.min(sortedNormal.length - 1, Math.floor(sortedNormal.length * 0.999))] ?? 0;
  if (masked.length === 0) return q999;
  const maxima = [...normalMaxima].sort((a, b) => a - b);
  const floor = maxima[Math.floor(maxima.length / 2)] ?? 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of masked) for (const v of m.values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let best = { f1: -1, t: q999 };
  for (let k = 1; k < 64; k++) {
    const t = lo + ((hi - lo) * k) / 64;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const m of masked) {
      for (let i = 0; i < m.values.length; i++) {
        const p = m.values[i]! > t;
        const y = m.truth[i]! > 0;
        if (p && y) tp++;
        else if (p) fp++;
        else if (y) fn++;
      }
    }
    const f1 = (2 * tp) / Math.max(1, 2 * tp + fp + fn);
    if (f1 > best.f1) best = { f1, t };
  }
  return Math.max(best.t, floor);
}
