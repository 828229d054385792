import type { RgbImage } from '../../core/image.js';
import type { LoadedModel } from '../runtime.js';

/**
 * Optional extension of LoadedModel for evaluation: the continuous anomaly map behind the mask,
 * needed for pixel-level AUROC. Runtimes that have one implement it; the server never calls it.
 */
export interface AnomalyMapSource {
  anomalyMap(image: RgbImage): Promise<{ readonly map: Float32Array; readonly width: number; readonly height: number }>;
}

export function hasAnomalyMap(model: LoadedModel): model is LoadedModel & AnomalyMapSource {
  return typeof (model as Partial<AnomalyMapSource>).anomalyMap === 'function';
}
