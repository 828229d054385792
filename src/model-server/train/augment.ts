import type { RgbImage } from '../../core/image.js';

/**
 * Copies of a normal training image that are also normal: mirrored, or turned about the image
 * centre. They only widen the memory bank (the patches a normal part may show); nothing is learned
 * from them that a real normal image would contradict. `flip` suits parts that may lie mirrored;
 * `rotate` adds turned copies too, for parts that come at any angle (round castings, caps, bearings).
 */
export type Augment = 'none' | 'flip' | 'rotate';

/** Turned copies per image with `rotate` (the angles 360°·k/n, k = 1…n−1, besides the flips). */
export const ROTATIONS = 7;

export function augmentations(img: RgbImage, mode: Augment): RgbImage[] {
  if (mode === 'none') return [];
  const out = [flip(img, true), flip(img, false)];
  if (mode === 'rotate') for (let k = 1; k <= ROTATIONS; k++) out.push(rotate(img, (2 * Math.PI * k) / (ROTATIONS + 1)));
  return out;
}

export function flip(img: RgbImage, horizontal: boolean): RgbImage {
  const { width: w, height: h, pixels } = img;
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = horizontal ? w - 1 - x : x;
      const sy = horizontal ? y : h - 1 - y;
      const s = (sy * w + sx) * 3;
      const d = (y * w + x) * 3;
      out[d] = pixels[s]!;
      out[d + 1] = pixels[s + 1]!;
      out[d + 2] = pixels[s + 2]!;
    }
  }
  return { width: w, height: h, pixels: out };
}

/**
 * The image turned by `angle` radians about its centre, sampled bilinearly; where the turned image
 * leaves the frame, the nearest edge pixel is repeated (the background, in a photo of a part).
 */
export function rotate(img: RgbImage, angle: number): RgbImage {
  const { width: w, height: h, pixels } = img;
  const out = new Uint8Array(pixels.length);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = Math.min(w - 1, Math.max(0, c * (x - cx) + s * (y - cy) + cx));
      const sy = Math.min(h - 1, Math.max(0, -s * (x - cx) + c * (y - cy) + cy));
      const x0 = Math.min(w - 2, Math.floor(sx));
      const y0 = Math.min(h - 2, Math.floor(sy));
      const fx = sx - x0;
      const fy = sy - y0;
      const a = (y0 * w + x0) * 3;
      const b = a + w * 3;
      const d = (y * w + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = pixels[a + ch]! * (1 - fx) + pixels[a + 3 + ch]! * fx;
        const bottom = pixels[b + ch]! * (1 - fx) + pixels[b + 3 + ch]! * fx;
        out[d + ch] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width: w, height: h, pixels: out };
}
