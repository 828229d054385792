import sharp from 'sharp';
import { LookoutError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import type { MaskImages } from '../mask-images.js';

/** A palette PNG quantised by libimagequant, for masks with more than 256 colours (not class masks). */
export async function quantisedPng(mask: RgbImage): Promise<Buffer> {
  return sharp(mask.pixels, { raw: { width: mask.width, height: mask.height, channels: 3 } })
    .png({ palette: true, colours: 256, dither: 0, compressionLevel: 9 })
    .toBuffer();
}

/**
 * The mask laid over the frame: every non-black mask pixel is blended with the frame at `alpha`,
 * in its class colour; background pixels show the frame unchanged. The mask is scaled (nearest
 * neighbour, so class colours stay exact) to the frame's size when they differ.
 */
export async function overlayJpeg(frame: RgbImage, mask: RgbImage, quality: number, alpha = 0.45): Promise<Buffer> {
  if (frame.pixels.length !== frame.width * frame.height * 3) throw new LookoutError('INTERNAL', 'overlay frame has the wrong byte length');
  let maskPixels: Uint8Array = mask.pixels;
  if (mask.width !== frame.width || mask.height !== frame.height) {
    maskPixels = await sharp(mask.pixels, { raw: { width: mask.width, height: mask.height, channels: 3 } })
      .resize(frame.width, frame.height, { fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer();
  }
  const out = Buffer.from(frame.pixels);
  const keep = 1 - alpha;
  for (let i = 0; i < out.length; i += 3) {
    const r = maskPixels[i] ?? 0;
    const g = maskPixels[i + 1] ?? 0;
    const b = maskPixels[i + 2] ?? 0;
    if (r === 0 && g === 0 && b === 0) continue;
    out[i] = Math.round((out[i] ?? 0) * keep + r * alpha);
    out[i + 1] = Math.round((out[i + 1] ?? 0) * keep + g * alpha);
    out[i + 2] = Math.round((out[i + 2] ?? 0) * keep + b * alpha);
  }
  return sharp(out, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality, mozjpeg: false }).toBuffer();
}

/** Both, as the mask store's port. */
export const sharpMaskImages: MaskImages = { quantisedPng, overlayJpeg };
