import type { RgbImage } from '../../../core/image.js';
import type { FeatureMap } from './feature-map.js';
import { createKernels, HEAP_START, type KernelChoice, type Kernels } from './kernels.js';
import { type PatchPcaBasis, type PatchPcaSpec, gridSize, levelCentre, pyramid } from './patch-pca.js';

/**
 * The inference-time form of a patch-PCA basis, prepared once per model in the kernels' heap
 * (`kernels.ts`; one caller at a time): per level the components scaled by 1/255 (so patches are
 * read as raw bytes) as rows zero-padded to whole vector pairs, and minus the projection of the
 * mean patch as the bias.
 *
 * feature_c = Σ_i b_c[i] · (p[i]/255 − m[i]) = Σ_i (b_c[i]/255) · p[i] − Σ_i b_c[i] · m[i]
 */
export interface PreparedBasis {
  readonly spec: PatchPcaSpec;
  readonly kernels: Kernels;
  /** Floats per patch and per component row in the heap (size²·3 padded to a multiple of 8). */
  readonly row: number;
  readonly basisAt: readonly number[];
  readonly biasAt: readonly number[];
  /** Where a frame's patches, then their projections, are written. */
  readonly scratchAt: number;
}

export function prepareBasis(spec: PatchPcaSpec, basis: PatchPcaBasis, kernels: KernelChoice = 'simd'): PreparedBasis {
  const n = spec.size * spec.size * 3;
  const k = spec.components;
  const row = Math.ceil(n / 8) * 8;
  const basisAt = Array.from({ length: spec.levels }, (_, l) => HEAP_START + l * k * row);
  const biasStride = Math.ceil(k / 4) * 4;
  const biasAt = basisAt.map((_, l) => HEAP_START + spec.levels * k * row + l * biasStride);
  const scratchAt = HEAP_START + spec.levels * (k * row + biasStride);
  const kern = createKernels(scratchAt, kernels);
  const heap = kern.heap;
  for (let l = 0; l < spec.levels; l++) {
    const b = basis.bases[l]!;
    const m = basis.means[l]!;
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        heap[basisAt[l]! + c * row + i] = b[c * n + i]! / 255;
        acc += b[c * n + i]! * m[i]!;
      }
      heap[biasAt[l]! + c] = -acc;
    }
  }
  return { spec, kernels: kern, row, basisAt, biasAt, scratchAt };
}

/**
 * Patch-PCA descriptors of a working-size image. Cost is one dot product of size²·3 per component,
 * distinct patch centre and level, so: the pyramid halves in integer arithmetic; a coarse level
 * whose grid cells map to the same level pixel (stride < 2^level) projects each distinct centre
 * once; the projections of a level run as one batch in the kernels.
 */
export function projectPatches(img: RgbImage, prepared: PreparedBasis): FeatureMap {
  const { spec, kernels, row, scratchAt } = prepared;
  const levels = pyramid(img, spec.levels);
  const { gw, gh } = gridSize(img, spec.stride);
  const k = spec.components;
  const dim = k * spec.levels;
  const data = new Float32Array(gw * gh * dim);
  const ix = new Int32Array(gw);
  const iy = new Int32Array(gh);
  for (let l = 0; l < spec.levels; l++) {
    const im = levels[l]!;
    const xs = distinctCentres(gw, spec.stride, l, im.width, ix);
    const ys = distinctCentres(gh, spec.stride, l, im.height, iy);
    const count = xs.length * ys.length;
    const outAt = scratchAt + count * row;
    kernels.reserve(outAt + count * k);
    const heap = kernels.heap;
    for (let j = 0; j < ys.length; j++) {
      for (let i = 0; i < xs.length; i++) gatherBytes(im, xs[i]!, ys[j]!, spec.size, heap, scratchAt + (j * xs.length + i) * row, row);
    }
    kernels.affine(scratchAt, count, row, prepared.basisAt[l]!, k, row / 8, prepared.biasAt[l]!, outAt, k);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        const from = outAt + (iy[gy]! * xs.length + ix[gx]!) * k;
        const to = (gy * gw + gx) * dim + l * k;
        for (let c = 0; c < k; c++) data[to + c] = heap[from + c]!;
      }
    }
  }
  return { width: gw, height: gh, dim, data };
}

/** The distinct level coordinates of a grid axis (non-decreasing), and each cell's index among them. */
function distinctCentres(cells: number, stride: number, level: number, limit: number, index: Int32Array): number[] {
  const centres: number[] = [];
  for (let g = 0; g < cells; g++) {
    const c = levelCentre(g, stride, level, limit);
    if (centres[centres.length - 1] !== c) centres.push(c);
    index[g] = centres.length - 1;
  }
  return centres;
}

/** The size×size RGB patch centred on (cx, cy) as raw byte values at out[o…], edges clamped, zero-padded to `row`. */
function gatherBytes(img: RgbImage, cx: number, cy: number, size: number, out: Float32Array, o: number, row: number): void {
  const r = size >> 1;
  const { width: w, height: h, pixels } = img;
  const end = o + row;
  if (cx - r >= 0 && cx - r + size <= w && cy - r >= 0 && cy - r + size <= h) {
    const span = size * 3;
    for (let dy = 0; dy < size; dy++) {
      const from = ((cy - r + dy) * w + (cx - r)) * 3;
      for (let j = 0; j < span; j++) out[o++] = pixels[from + j]!;
    }
  } else {
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
  while (o < end) out[o++] = 0;
}
