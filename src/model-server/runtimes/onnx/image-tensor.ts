import type { RgbImage } from '../../../core/image.js';

/** Packed RGB888 → NCHW float32 in [0,1], normalised per channel by (x − mean) / std. */
export function toNchw(img: RgbImage, mean: readonly number[], std: readonly number[]): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const m0 = mean[0]!, m1 = mean[1]!, m2 = mean[2]!;
  const s0 = 1 / (255 * std[0]!), s1 = 1 / (255 * std[1]!), s2 = 1 / (255 * std[2]!);
  const k0 = m0 / std[0]!, k1 = m1 / std[1]!, k2 = m2 / std[2]!;
  const p = img.pixels;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = p[j]! * s0 - k0;
    out[n + i] = p[j + 1]! * s1 - k1;
    out[2 * n + i] = p[j + 2]! * s2 - k2;
  }
  return out;
}
