import type { RgbImage } from '../../../core/image.js';
import type { FeatureMap } from './feature-map.js';
import { resizeRgb } from './resize.js';

/**
 * Learned-from-the-data patch descriptors: a Gaussian pyramid of the image, and at every grid point
 * the raw `size`×`size` colour patch of each level projected on principal components computed from
 * the normal training patches of that level ("eigen-patches"). Level l sees a footprint 2^l times
 * larger, so fine texture, edges and object-scale structure are all described.
 */
export interface PatchPcaSpec {
  readonly stride: number;
  readonly size: number;
  readonly levels: number;
  /** Components kept per level. */
  readonly components: number;
}

export interface PatchPcaBasis {
  /** Per level: mean patch (size*size*3) and `components` rows of size*size*3. */
  readonly means: readonly Float32Array[];
  readonly bases: readonly Float32Array[];
}

export function pyramid(img: RgbImage, levels: number): RgbImage[] {
  const out = [img];
  for (let l = 1; l < levels; l++) {
    const prev = out[l - 1]!;
    out.push(resizeRgb(prev, Math.max(8, Math.round(prev.width / 2)), Math.max(8, Math.round(prev.height / 2))));
  }
  return out;
}

export function gridSize(img: RgbImage, stride: number): { gw: number; gh: number } {
  return { gw: Math.max(1, Math.floor(img.width / stride)), gh: Math.max(1, Math.floor(img.height / stride)) };
}

/** Writes the raw patch (values in [0,1]) centred on level coordinates (cx, cy) into `out`. */
export function readPatch(img: RgbImage, cx: number, cy: number, size: number, out: Float32Array): void {
  const r = size >> 1;
  const { width: w, height: h, pixels } = img;
  let o = 0;
  for (let dy = -r; dy < size - r; dy++) {
    const y = Math.min(h - 1, Math.max(0, cy + dy));
    for (let dx = -r; dx < size - r; dx++) {
      const x = Math.min(w - 1, Math.max(0, cx + dx));
      const p = (y * w + x) * 3;
      out[o++] = pixels[p]! / 255;
      out[o++] = pixels[p + 1]! / 255;
      out[o++] = pixels[p + 2]! / 255;
    }
  }
}

/** Level-l coordinates of grid point (gx, gy). */
export function levelCentre(g: number, stride: number, level: number, limit: number): number {
  return Math.min(limit - 1, Math.floor((g * stride + stride / 2) / (1 << level)));
}

export function patchPcaFeatures(img: RgbImage, spec: PatchPcaSpec, basis: PatchPcaBasis): FeatureMap {
  const levels = pyramid(img, spec.levels);
  const { gw, gh } = gridSize(img, spec.stride);
  const size = spec.size;
  const r = size >> 1;
  const n = size * size * 3;
  const k = spec.components;
  const dim = k * spec.levels;
  const data = new Float32Array(gw * gh * dim);
  const patch = new Float32Array(n);
  const bias = new Float32Array(k);
  for (let l = 0; l < spec.levels; l++) {
    const im = levels[l]!;
    const { width: w, height: h } = im;
    const plane = new Float32Array(im.pixels.length);
    for (let i = 0; i < plane.length; i++) plane[i] = im.pixels[i]! / 255;
    const mean = basis.means[l]!;
    const b = basis.bases[l]!;
    // Projection of the mean patch, subtracted once per component instead of per pixel.
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mean[i]! * b[c * n + i]!;
      bias[c] = s;
    }
    const row = size * 3;
    for (let gy = 0; gy < gh; gy++) {
      const cy = levelCentre(gy, spec.stride, l, h);
      for (let gx = 0; gx < gw; gx++) {
        const cx = levelCentre(gx, spec.stride, l, w);
        if (cx - r >= 0 && cx - r + size <= w && cy - r >= 0 && cy - r + size <= h) {
          for (let dy = 0; dy < size; dy++) {
            const from = ((cy - r + dy) * w + (cx - r)) * 3;
            const to = dy * row;
            for (let j = 0; j < row; j++) patch[to + j] = plane[from + j]!;
          }
        } else {
          readPatch(im, cx, cy, size, patch);
        }
        const o = (gy * gw + gx) * dim + l * k;
        for (let c = 0; c < k; c++) {
          let s0 = 0;
          let s1 = 0;
          const bo = c * n;
          let i = 0;
          for (; i + 1 < n; i += 2) {
            s0 += patch[i]! * b[bo + i]!;
            s1 += patch[i + 1]! * b[bo + i + 1]!;
          }
          if (i < n) s0 += patch[i]! * b[bo + i]!;
          data[o + c] = s0 + s1 - bias[c]!;
        }
      }
    }
  }
  return { width: gw, height: gh, dim, data };
}
