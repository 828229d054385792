import type { RgbImage } from '../../../core/image.js';
import type { FeatureMap } from './feature-map.js';
import { type PatchPcaBasis, type PatchPcaSpec, gridSize, levelCentre, pyramid } from './patch-pca.js';

/**
 * The inference-time form of a patch-PCA basis, prepared once per model: per level the components
 * scaled by 1/255 (so patches are read as raw bytes, no float copy of the image) in Float64 (V8
 * multiplies doubles natively; Float32 reads convert), and the projection of the mean patch.
 *
 * feature_c = Σ_i b_c[i] · (p[i]/255 − m[i]) = Σ_i (b_c[i]/255) · p[i] − Σ_i b_c[i] · m[i]
 */
export interface PreparedBasis {
  readonly spec: PatchPcaSpec;
  readonly scaled: readonly Float64Array[];
  readonly bias: readonly Float64Array[];
}

export function prepareBasis(spec: PatchPcaSpec, basis: PatchPcaBasis): PreparedBasis {
  const n = spec.size * spec.size * 3;
  const k = spec.components;
  const scaled: Float64Array[] = [];
  const bias: Float64Array[] = [];
  for (let l = 0; l < spec.levels; l++) {
    const b = basis.bases[l]!;
    const m = basis.means[l]!;
    const s = new Float64Array(k * n);
    const bl = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        s[c * n + i] = b[c * n + i]! / 255;
        acc += b[c * n + i]! * m[i]!;
      }
      bl[c] = acc;
    }
    scaled.push(s);
    bias.push(bl);
  }
  return { spec, scaled, bias };
}

/**
 * Patch-PCA descriptors of a working-size image. Cost is one dot product of size²·3 per component,
 * grid cell and level, so: the pyramid halves in integer arithmetic; a coarse level whose grid
 * cells map to the same level pixel (stride < 2^level) projects each distinct centre once and
 * copies it; two components share each patch read.
 */
export function projectPatches(img: RgbImage, prepared: PreparedBasis): FeatureMap {
  const { spec, scaled, bias } = prepared;
  const levels = pyramid(img, spec.levels);
  const { gw, gh } = gridSize(img, spec.stride);
  const size = spec.size;
  const n = size * size * 3;
  const k = spec.components;
  const dim = k * spec.levels;
  const data = new Float32Array(gw * gh * dim);
  const patch = new Float64Array(n);
  const cxs = new Int32Array(gw);
  for (let l = 0; l < spec.levels; l++) {
    const im = levels[l]!;
    const b = scaled[l]!;
    const bl = bias[l]!;
    for (let gx = 0; gx < gw; gx++) cxs[gx] = levelCentre(gx, spec.stride, l, im.width);
    let prevCy = -1;
    for (let gy = 0; gy < gh; gy++) {
      const cy = levelCentre(gy, spec.stride, l, im.height);
      const rowOut = gy * gw * dim + l * k;
      if (cy === prevCy) {
        // Same level row as the grid row above: copy its features.
        for (let gx = 0; gx < gw; gx++) data.copyWithin(rowOut + gx * dim, rowOut + (gx - gw) * dim, rowOut + (gx - gw) * dim + k);
        continue;
      }
      prevCy = cy;
      for (let gx = 0; gx < gw; gx++) {
        const o = rowOut + gx * dim;
        if (gx > 0 && cxs[gx] === cxs[gx - 1]) {
          data.copyWithin(o, o - dim, o - dim + k);
          continue;
        }
        gatherBytes(im, cxs[gx]!, cy, size, patch);
        project(patch, b, bl, n, k, data, o);
      }
    }
  }
  return { width: gw, height: gh, dim, data };
}

/** The size×size RGB patch centred on (cx, cy) as raw byte values, edges clamped. */
function gatherBytes(img: RgbImage, cx: number, cy: number, size: number, out: Float64Array): void {
  const r = size >> 1;
  const { width: w, height: h, pixels } = img;
  const row = size * 3;
  if (cx - r >= 0 && cx - r + size <= w && cy - r >= 0 && cy - r + size <= h) {
    let o = 0;
    for (let dy = 0; dy < size; dy++) {
      const from = ((cy - r + dy) * w + (cx - r)) * 3;
      for (let j = 0; j < row; j++) out[o++] = pixels[from + j]!;
    }
    return;
  }
  let o = 0;
  for (let dy = -r; dy < size - r; dy++) {
    const y = Math.min(h - 1, Math.max(0, cy + dy));
    for (let dx = -r; dx < size - r; dx++) {
      const p = (y * w + Math.min(w - 1, Math.max(0, cx + dx))) * 3;
      out[o++] = pixels[p]!;
      out[o++] = pixels[p + 1]!;
      out[o++] = pixels[p + 2]!;
    }
  }
}

/** out[o + c] = b_c · patch − bias_c for every component, two components per pass over the patch. */
function project(patch: Float64Array, b: Float64Array, bias: Float64Array, n: number, k: number, out: Float32Array, o: number): void {
  let c = 0;
  for (; c + 2 <= k; c += 2) {
    const b0 = c * n;
    const b1 = b0 + n;
    let s0 = 0;
    let s1 = 0;
    let t0 = 0;
    let t1 = 0;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const p0 = patch[i]!;
      const p1 = patch[i + 1]!;
      s0 += p0 * b[b0 + i]!;
      s1 += p1 * b[b0 + i + 1]!;
      t0 += p0 * b[b1 + i]!;
      t1 += p1 * b[b1 + i + 1]!;
    }
    if (i < n) {
      s0 += patch[i]! * b[b0 + i]!;
      t0 += patch[i]! * b[b1 + i]!;
    }
    out[o + c] = s0 + s1 - bias[c]!;
    out[o + c + 1] = t0 + t1 - bias[c + 1]!;
  }
  for (; c < k; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += patch[i]! * b[c * n + i]!;
    out[o + c] = s - bias[c]!;
  }
}
