/** Separable Gaussian blur of a grid map (edges clamped). */
export function gaussianBlur(map: Float32Array, w: number, h: number, sigma: number): Float32Array {
  if (sigma <= 0) return map;
  const radius = Math.max(1, Math.ceil(sigma * 2.5));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  const tmp = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius]! * map[y * w + Math.min(w - 1, Math.max(0, x + k))]!;
      tmp[y * w + x] = acc;
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius]! * tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x]!;
      out[y * w + x] = acc;
    }
  }
  return out;
}

/** The image score: the mean of the `topK` largest map values (topK 1 = the maximum). */
export function imageScore(map: Float32Array, topK = 1): number {
  if (topK <= 1) {
    let m = -Infinity;
    for (let i = 0; i < map.length; i++) if (map[i]! > m) m = map[i]!;
    return m;
  }
  const sorted = Float32Array.from(map).sort();
  let s = 0;
  const k = Math.min(topK, sorted.length);
  for (let i = sorted.length - k; i < sorted.length; i++) s += sorted[i]!;
  return s / k;
}
