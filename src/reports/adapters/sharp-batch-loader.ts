import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { LookoutError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import { resizeRgb } from '../../model-server/runtimes/builtin/resize.js';
import type { BatchImageLoader } from '../batch-inspection.js';

export interface SharpBatchLoaderOptions {
  /** fill: stretch to the input size; fit: keep the aspect ratio, pad with black. */
  readonly resize?: 'fill' | 'fit';
  readonly maxInputPixels?: number;
  readonly maxInputBytes?: number;
}

/**
 * Files as the live path and `evaluate` give them to a model: decoded by sharp with EXIF orientation
 * applied, packed RGB888, then brought to the model input by the model runtimes' own resampler
 * (`resizeRgb`, the one the runtimes apply to a full frame). A runtime's resize of an image already
 * at its input size is the identity, so a file inspected here scores exactly as the same frame sent
 * whole by a camera. `fit` pads the decoded frame with black to the input's aspect ratio first (no
 * resampling). Bad files reject with FRAME_CORRUPT / FRAME_TOO_LARGE.
 */
export function createSharpBatchLoader(options: SharpBatchLoaderOptions = {}): BatchImageLoader {
  const maxBytes = options.maxInputBytes ?? 64 * 1024 * 1024;
  return {
    async load(path, size): Promise<RgbImage> {
      const info = await stat(path);
      if (info.size > maxBytes) throw new LookoutError('FRAME_TOO_LARGE', `${info.size} bytes, more than ${maxBytes}`);
      const bytes = await readFile(path);
      let decoded: RgbImage;
      try {
        const { data, info: out } = await sharp(bytes, { limitInputPixels: options.maxInputPixels ?? 50_000_000 })
          .rotate()
          .removeAlpha()
          .toColourspace('srgb')
          .raw()
          .toBuffer({ resolveWithObject: true });
        decoded = { width: out.width, height: out.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      } catch (err) {
        throw new LookoutError('FRAME_CORRUPT', `cannot decode: ${(err as Error).message}`, { cause: err });
      }
      const framed = options.resize === 'fit' ? padToAspect(decoded, size.width / size.height) : decoded;
      return resizeRgb(framed, size.width, size.height);
    },
  };
}

/** The image centred on a black canvas of the given aspect ratio (width / height), no resampling. */
function padToAspect(img: RgbImage, aspect: number): RgbImage {
  const width = Math.max(img.width, Math.round(img.height * aspect));
  const height = Math.max(img.height, Math.round(img.width / aspect));
  if (width === img.width && height === img.height) return img;
  const out = new Uint8Array(width * height * 3);
  const left = (width - img.width) >> 1;
  const top = (height - img.height) >> 1;
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++) out.set(img.pixels.subarray(y * row, (y + 1) * row), ((top + y) * width + left) * 3);
  return { width, height, pixels: out };
}
