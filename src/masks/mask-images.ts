import type { RgbImage } from '../core/image.js';

/** The image codecs the mask store needs and does not write itself (adapters/sharp-mask-images.ts: sharp). */
export interface MaskImages {
  /** A palette PNG quantised to 256 colours, for masks with more colours than a class mask has. */
  quantisedPng(mask: RgbImage): Promise<Buffer>;
  /** The mask laid over the frame as a JPEG of `quality`. */
  overlayJpeg(frame: RgbImage, mask: RgbImage, quality: number): Promise<Buffer>;
}
