/** A dense grid of patch descriptors: `data[(y * width + x) * dim + d]`. */
export interface FeatureMap {
  readonly width: number;
  readonly height: number;
  readonly dim: number;
  readonly data: Float32Array;
}

/** Standardises features in place with training statistics: (x - mean) / std per dimension. */
export function standardise(map: FeatureMap, mean: Float32Array, std: Float32Array): FeatureMap {
  const { dim, data } = map;
  for (let i = 0; i < data.length; i += dim) {
    for (let d = 0; d < dim; d++) data[i + d] = (data[i + d]! - mean[d]!) / std[d]!;
  }
  return map;
}

/**
 * Per-dimension mean and standard deviation over every patch of every map (std floored to stay
 * finite). `groups` > 0 shares one scale across each run of `dim / groups` dimensions: right for
 * PCA components of one level, which are in the same units and whose low-variance tail would be
 * amplified into noise by per-dimension whitening.
 */
export function featureStats(maps: readonly FeatureMap[], groups = 0): { mean: Float32Array; std: Float32Array } {
  const dim = maps[0]?.dim ?? 0;
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  let n = 0;
  for (const m of maps) {
    for (let i = 0; i < m.data.length; i += dim) {
      for (let d = 0; d < dim; d++) {
        const v = m.data[i + d]!;
        sum[d]! += v;
        sq[d]! += v * v;
      }
      n++;
    }
  }
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    const mu = sum[d]! / Math.max(1, n);
    mean[d] = mu;
    std[d] = Math.max(1e-4, Math.sqrt(Math.max(0, sq[d]! / Math.max(1, n) - mu * mu)));
  }
  if (groups > 0 && dim % groups === 0) {
    const g = dim / groups;
    for (let start = 0; start < dim; start += g) {
      let v = 0;
      for (let d = start; d < start + g; d++) v += std[d]! * std[d]!;
      const shared = Math.max(1e-4, Math.sqrt(v / g));
      for (let d = start; d < start + g; d++) std[d] = shared;
    }
  }
  return { mean, std };
}
