import type { RgbImage } from '../../../core/image.js';
import type { FeatureMap } from './feature-map.js';
import { createKernels, HEAP_START, type KernelChoice, type Kernels } from './kernels.js';
import { type PatchPcaBasis, type PatchPcaSpec, gridSize, levelCentre, pyramid } from './patch-pca.js';

/**
 * The inference-time form of a patch-PCA basis, prepared once per model in the kernels' heap
 * (`kernels.ts`; one caller at a time): per level the components scaled by 1/255 (so patches are
 * read as raw byte values), each as `size` patch rows of size·3 floats zero-padded to `seg` (a
 * multiple of 8), and minus the projection of the mean patch as the bias.
 *
 * feature_c = Σ_i b_c[i] · (p[i]/255 − m[i]) = Σ_i (b_c[i]/255) · p[i] − Σ_i b_c[i] · m[i]
 */
export interface PreparedBasis {
  readonly spec: PatchPcaSpec;
  readonly kernels: Kernels;
  /** Floats per patch row in a component (size·3 padded to a multiple of 8). */
  readonly seg: number;
  readonly basisAt: readonly number[];
  readonly biasAt: readonly number[];
  /** Where a frame's level image, patch offsets and projections are written. */
  readonly scratchAt: number;
}

export function prepareBasis(spec: PatchPcaSpec, basis: PatchPcaBasis, kernels: KernelChoice = 'simd'): PreparedBasis {
  const { size, components: k, levels } = spec;
  const n = size * size * 3;
  const seg = Math.ceil((size * 3) / 8) * 8;
  const rowLength = size * seg;
  const biasStride = Math.ceil(k / 4) * 4;
  const basisAt = Array.from({ length: levels }, (_, l) => HEAP_START + l * k * rowLength);
  const biasAt = basisAt.map((_, l) => HEAP_START + levels * k * rowLength + l * biasStride);
  const scratchAt = HEAP_START + levels * (k * rowLength + biasStride);
  const kern = createKernels(scratchAt, { prefer: kernels });
  const heap = kern.heap;
  for (let l = 0; l < levels; l++) {
    const b = basis.bases[l]!;
    const m = basis.means[l]!;
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const dy = Math.floor(i / (size * 3));
        heap[basisAt[l]! + c * rowLength + dy * seg + (i - dy * size * 3)] = b[c * n + i]! / 255;
        acc += b[c * n + i]! * m[i]!;
      }
      heap[biasAt[l]! + c] = -acc;
    }
  }
  return { spec, kernels: kern, seg, basisAt, biasAt, scratchAt };
}

/**
 * Patch-PCA descriptors of a working-size image. Cost is one dot product of size²·3 per component,
 * distinct patch centre and level, so: the pyramid halves in integer arithmetic; a coarse level
 * whose grid cells map to the same level pixel (stride < 2^level) projects each distinct centre
 * once; each level goes into the heap once, as floats with its edges replicated (so every patch
 * is a plain window of it), and its patches are projected in one batch by the kernels.
 */
export function projectPatches(img: RgbImage, prepared: PreparedBasis): FeatureMap {
  const { spec, kernels, seg, scratchAt } = prepared;
  const levels = pyramid(img, spec.levels);
  const { gw, gh } = gridSize(img, spec.stride);
  const k = spec.components;
  const dim = k * spec.levels;
  const data = new Float32Array(gw * gh * dim);
  const ix = new Int32Array(gw);
  const iy = new Int32Array(gh);
  const r = spec.size >> 1;
  for (let l = 0; l < spec.levels; l++) {
    const im = levels[l]!;
    const xs = distinctCentres(gw, spec.stride, l, im.width, ix);
    const ys = distinctCentres(gh, spec.stride, l, im.height, iy);
    const count = xs.length * ys.length;
    const span = (im.width + 2 * r) * 3;
    const pixels = span * (im.height + 2 * r);
    // The last window row reads up to a segment past the level's last pixel.
    const offsAt = scratchAt + Math.ceil((pixels + seg) / 4) * 4;
    const outAt = offsAt + Math.ceil(count / 4) * 4;
    kernels.reserve(outAt + count * k);
    const { heap, ints } = kernels;
    padEdges(im, r, heap, scratchAt);
    heap.fill(0, scratchAt + pixels, offsAt);
    for (let j = 0; j < ys.length; j++) for (let i = 0; i < xs.length; i++) ints[offsAt + j * xs.length + i] = ys[j]! * span + xs[i]! * 3;
    kernels.affine(offsAt, count, scratchAt, spec.size, span, seg / 8, prepared.basisAt[l]!, k, prepared.biasAt[l]!, outAt, k);
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

/**
 * The image as floats at out[at…] with `r` pixels added on every side, copies of the nearest edge
 * pixel (the clamping a border patch would do): the patch centred on (x, y) starts at padded (x, y).
 */
function padEdges(img: RgbImage, r: number, out: Float32Array, at: number): void {
  const { width: w, height: h, pixels } = img;
  const span = (w + 2 * r) * 3;
  for (let py = 0; py < h + 2 * r; py++) {
    const src = Math.min(h - 1, Math.max(0, py - r)) * w * 3;
    const row = at + py * span;
    out.set(pixels.subarray(src, src + w * 3), row + r * 3);
    for (let x = 0; x < r; x++) {
      for (let c = 0; c < 3; c++) {
        out[row + x * 3 + c] = pixels[src + c]!;
        out[row + (r + w + x) * 3 + c] = pixels[src + (w - 1) * 3 + c]!;
      }
    }
  }
}
