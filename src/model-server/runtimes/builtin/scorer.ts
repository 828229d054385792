import type { RgbImage } from '../../../core/image.js';
import { gaussianBlur, imageScore } from './anomaly-map.js';
import { type FeatureMap, standardise } from './feature-map.js';
import { type MemoryIndex, NearestSearch } from './nearest.js';
import type { BuiltinParams } from './params.js';
import { evenLight } from './light.js';
import { alignedMapToFrame, alignToReference } from './align.js';
import { resizeRgb } from './resize.js';

/** Turns a working-size image into a grid of patch descriptors. */
export interface FeatureExtractor {
  extract(img: RgbImage): Promise<FeatureMap> | FeatureMap;
  close?(): Promise<void>;
}

export interface AnomalyMap {
  /**
   * Smoothed distance per grid cell to the nearest normal patch, dimensions weighted by `mapWeights`
   * when the model has them (in the frame's own geometry, also when aligned): masks and pixel scores.
   */
  readonly map: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Raw image score (before normalisation). */
  readonly score: number;
}

/**
 * The built-in model's inference path, shared by training (held-out scoring, calibration) and the
 * runtime: resize → align the part (when the model does) → even light (when it does) → features →
 * standardise → nearest normal patch → smooth → top-k mean; an aligned map is turned back onto the frame.
 */
export class Scorer {
  private readonly search: NearestSearch;

  constructor(
    private readonly deps: {
      readonly params: Pick<BuiltinParams, 'working' | 'sigma' | 'topFraction' | 'evenLight' | 'mapWeights'>;
      /** The reference angular profile when the model aligns round parts (`align.ts`). */
      readonly alignReference?: Float32Array;
      readonly extractor: FeatureExtractor;
      readonly mean: Float32Array;
      readonly std: Float32Array;
      readonly index: MemoryIndex;
    },
  ) {
    this.search = new NearestSearch(deps.index);
  }

  async score(img: RgbImage): Promise<AnomalyMap> {
    const { working, evenLight: even } = this.deps.params;
    const sized = resizeRgb(img, working.width, working.height);
    const ref = this.deps.alignReference;
    const aligned = ref ? alignToReference(sized, ref) : undefined;
    const input = aligned?.image ?? sized;
    const f = standardise(await this.deps.extractor.extract(even ? evenLight(input) : input), this.deps.mean, this.deps.std);
    const r = this.scoreFeatures(f);
    if (!aligned) return r;
    return { ...r, map: alignedMapToFrame(r.map, r.width, r.height, working, aligned.part, aligned.angle) };
  }

  scoreFeatures(f: FeatureMap, excludeOwner?: number): AnomalyMap {
    const { sigma, topFraction, mapWeights } = this.deps.params;
    const rows = mapWeights ? new Int32Array(f.width * f.height) : undefined;
    const d = this.search.distances(f.data, excludeOwner, rows);
    for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]!);
    const map = gaussianBlur(d, f.width, f.height, sigma);
    const k = Math.max(1, Math.round(map.length * topFraction));
    const score = imageScore(map, k);
    if (!mapWeights || !rows) return { map, width: f.width, height: f.height, score };
    const weighted = weightedDistances(f, this.deps.index.bank, rows, mapWeights);
    return { map: gaussianBlur(weighted, f.width, f.height, sigma), width: f.width, height: f.height, score };
  }
}

/** anomaly_score in [0,1]: a logistic of the raw score around the calibrated threshold (0.5 there). */
export function normaliseScore(raw: number, rawThreshold: number, scale: number): number {
  const z = (raw - rawThreshold) / scale;
  return 1 / (1 + Math.exp(-z));
}

/** Per cell: the distance to bank row rows[cell] with run g of dim / weights.length dimensions weighted by weights[g]. */
function weightedDistances(f: FeatureMap, bank: Float32Array, rows: Int32Array, weights: readonly number[]): Float32Array {
  const { dim, data } = f;
  const run = dim / weights.length;
  const w2 = Float32Array.from({ length: dim }, (_, d) => weights[Math.floor(d / run)]! ** 2);
  const out = new Float32Array(rows.length);
  for (let c = 0; c < rows.length; c++) {
    const q = c * dim;
    const b = rows[c]! * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const x = data[q + d]! - bank[b + d]!;
      s += w2[d]! * x * x;
    }
    out[c] = Math.sqrt(s);
  }
  return out;
}
