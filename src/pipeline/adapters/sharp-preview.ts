import sharp from 'sharp';
import type { RgbImage } from '../../core/image.js';
import type { PreviewRenderer } from '../ports.js';

/**
 * Dashboard previews: the inspected frame as a small JPEG, with the mask's coloured pixels blended in
 * at `alpha` where the model found a defect. Cheap enough for a few per second per camera.
 */
export function createSharpPreviewRenderer(options: { maxWidth?: number; quality?: number; alpha?: number } = {}): PreviewRenderer {
  const maxWidth = options.maxWidth ?? 480;
  const quality = options.quality ?? 70;
  const alpha = options.alpha ?? 0.55;
  return {
    async render(frame: RgbImage, mask?: RgbImage): Promise<Buffer> {
      let pixels = frame.pixels;
      if (mask && mask.width === frame.width && mask.height === frame.height) {
        pixels = Buffer.from(frame.pixels);
        const m = mask.pixels;
        for (let i = 0; i < pixels.length; i += 3) {
          if (m[i] === 0 && m[i + 1] === 0 && m[i + 2] === 0) continue;
          for (let c = 0; c < 3; c++) pixels[i + c] = Math.round(pixels[i + c]! * (1 - alpha) + m[i + c]! * alpha);
        }
      }
      return sharp(pixels, { raw: { width: frame.width, height: frame.height, channels: 3 } })
        .resize({ width: Math.min(maxWidth, frame.width), withoutEnlargement: true })
        .jpeg({ quality })
        .toBuffer();
    },
  };
}
