import type { RgbImage } from '../../../core/image.js';
import { gaussianBlur, imageScore } from './anomaly-map.js';
import { type FeatureMap, standardise } from './feature-map.js';
import { type MemoryIndex, NearestSearch } from './nearest.js';
import type { BuiltinParams } from './params.js';
import { evenLight } from './light.js';
import { resizeRgb } from './resize.js';

/** Turns a working-size image into a grid of patch descriptors. */
export interface FeatureExtractor {
  extract(img: RgbImage): Promise<FeatureMap> | FeatureMap;
  close?(): Promise<void>;
}

export interface AnomalyMap {
  /** Smoothed nearest-neighbour distance per grid cell. */
  readonly map: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Raw image score (before normalisation). */
  readonly score: number;
}

/**
 * The built-in model's inference path, shared by training (held-out scoring, calibration) and the
 * runtime: resize → features → standardise → nearest normal patch → smooth → top-k mean.
 */
export class Scorer {
  private readonly search: NearestSearch;

  constructor(
    private readonly deps: {
      readonly params: Pick<BuiltinParams, 'working' | 'sigma' | 'topFraction' | 'evenLight'>;
      readonly extractor: FeatureExtractor;
      readonly mean: Float32Array;
      readonly std: Float32Array;
      readonly index: MemoryIndex;
    },
  ) {
    this.search = new NearestSearch(deps.index);
  }

  async features(img: RgbImage): Promise<FeatureMap> {
    const { working, evenLight: even } = this.deps.params;
    const sized = resizeRgb(img, working.width, working.height);
    const f = await this.deps.extractor.extract(even ? evenLight(sized) : sized);
    return standardise(f, this.deps.mean, this.deps.std);
  }

  async score(img: RgbImage, excludeOwner?: number): Promise<AnomalyMap> {
    return this.scoreFeatures(await this.features(img), excludeOwner);
  }

  scoreFeatures(f: FeatureMap, excludeOwner?: number): AnomalyMap {
    const d = this.search.distances(f.data, excludeOwner);
    for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]!);
    const map = gaussianBlur(d, f.width, f.height, this.deps.params.sigma);
    const k = Math.max(1, Math.round(map.length * this.deps.params.topFraction));
    return { map, width: f.width, height: f.height, score: imageScore(map, k) };
  }
}

/** anomaly_score in [0,1]: a logistic of the raw score around the calibrated threshold (0.5 there). */
export function normaliseScore(raw: number, rawThreshold: number, scale: number): number {
  const z = (raw - rawThreshold) / scale;
  return 1 / (1 + Math.exp(-z));
}
