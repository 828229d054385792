import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { LookoutError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import type { BatchImageLoader } from '../batch-inspection.js';

export interface SharpBatchLoaderOptions {
  /** fill: stretch to the input size; fit: keep the aspect ratio, pad with black. */
  readonly resize?: 'fill' | 'fit';
  readonly maxInputPixels?: number;
  readonly maxInputBytes?: number;
}

/**
 * The pipeline's preprocessing for files: EXIF orientation applied, resized to the model input, packed
 * RGB888. Bad files reject with FRAME_CORRUPT / FRAME_TOO_LARGE.
 */
export function createSharpBatchLoader(options: SharpBatchLoaderOptions = {}): BatchImageLoader {
  const maxBytes = options.maxInputBytes ?? 64 * 1024 * 1024;
  return {
    async load(path, size): Promise<RgbImage> {
      const info = await stat(path);
      if (info.size > maxBytes) throw new LookoutError('FRAME_TOO_LARGE', `${info.size} bytes, more than ${maxBytes}`);
      const bytes = await readFile(path);
      try {
        const { data, info: out } = await sharp(bytes, { limitInputPixels: options.maxInputPixels ?? 50_000_000 })
          .rotate()
          .resize(size.width, size.height, { fit: options.resize === 'fit' ? 'contain' : 'fill', background: '#000000' })
          .removeAlpha()
          .toColourspace('srgb')
          .raw()
          .toBuffer({ resolveWithObject: true });
        return { width: out.width, height: out.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      } catch (err) {
        throw new LookoutError('FRAME_CORRUPT', `cannot decode: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
