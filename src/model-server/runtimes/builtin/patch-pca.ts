import type { RgbImage } from '../../../core/image.js';
import { resizeRgb } from './resize.js';

/**
 * Learned-from-the-data patch descriptors: a Gaussian pyramid of the image, and at every grid point
 * the raw `size`×`size` colour patch of each level projected on principal components computed from
 * the normal training patches of that level ("eigen-patches"). Level l sees a footprint 2^l times
 * larger, so fine texture, edges and object-scale structure are all described.
 *
 * This module holds the layout shared by training (`fitPatchPca`) and inference
 * (`patch-projection.ts`): the pyramid, the grid and where a grid cell falls on each level.
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
    const w = Math.max(8, Math.round(prev.width / 2));
    const h = Math.max(8, Math.round(prev.height / 2));
    out.push(w * 2 === prev.width && h * 2 === prev.height ? halve(prev) : resizeRgb(prev, w, h));
  }
  return out;
}

/**
 * Exact 2× area reduction: each output pixel is the rounded mean of a 2×2 block. Bit-identical to
 * `resizeRgb` for even sides (its box weights are then all ½, exact in float, rounding half up),
 * in one integer pass.
 */
function halve(img: RgbImage): RgbImage {
  const { width: sw, pixels: src } = img;
  const w = sw >> 1;
  const h = img.height >> 1;
  const out = new Uint8Array(w * h * 3);
  const row = sw * 3;
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0, a = 2 * y * row; x < w; x++, a += 6, o += 3) {
      out[o] = (src[a]! + src[a + 3]! + src[a + row]! + src[a + row + 3]! + 2) >> 2;
      out[o + 1] = (src[a + 1]! + src[a + 4]! + src[a + row + 1]! + src[a + row + 4]! + 2) >> 2;
      out[o + 2] = (src[a + 2]! + src[a + 5]! + src[a + row + 2]! + src[a + row + 5]! + 2) >> 2;
    }
  }
  return { width: w, height: h, pixels: out };
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

