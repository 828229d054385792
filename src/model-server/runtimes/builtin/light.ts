import type { RgbImage } from '../../../core/image.js';

/** Mean grey level every image is brought to by `evenLight`. */
export const TARGET_MEAN = 128;

/**
 * The image with one gain applied to every channel so that its mean grey level is TARGET_MEAN: a
 * part photographed under brighter or dimmer light then gives the same patches. Clamped to 0…255.
 */
export function evenLight(img: RgbImage): RgbImage {
  const p = img.pixels;
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i]!;
  const mean = sum / Math.max(1, p.length);
  if (mean < 1) return img;
  const gain = TARGET_MEAN / mean;
  const out = new Uint8Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = Math.min(255, Math.round(p[i]! * gain));
  return { width: img.width, height: img.height, pixels: out };
}
