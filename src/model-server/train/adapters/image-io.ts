import sharp from 'sharp';
import type { RgbImage } from '../../../core/image.js';

/**
 * The only place training and evaluation touch sharp: decode any JPEG/PNG to packed RGB888,
 * optionally resized, decode masks as RGBA, encode generated images. Errors stay sharp's; the
 * dataset reader wraps them with the manifest line they came from.
 */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

export async function imageSize(path: string): Promise<ImageSize> {
  const meta = await sharp(path).metadata();
  if (!meta.width || !meta.height) throw new Error(`cannot read the size of ${path}`);
  const rotated = (meta.orientation ?? 1) >= 5;
  return rotated ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

/** Decodes to RGB888 (alpha flattened on black), resized with area averaging when `size` is given. */
export async function readRgb(path: string, size?: ImageSize): Promise<RgbImage> {
  let pipeline = sharp(path).rotate().flatten({ background: '#000000' }).toColourspace('srgb');
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Decodes a mask as RGBA (palette and greyscale expanded, alpha 255 when absent), nearest-neighbour resize. */
export async function readRgba(path: string, size?: ImageSize): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  let pipeline = sharp(path).toColourspace('srgb').ensureAlpha();
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export async function writeImage(path: string, img: RgbImage, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  const s = sharp(Buffer.from(img.pixels.buffer, img.pixels.byteOffset, img.pixels.length), { raw: { width: img.width, height: img.height, channels: 3 } });
  await (format === 'png' ? s.png() : s.jpeg({ quality: 92 })).toFile(path);
}
