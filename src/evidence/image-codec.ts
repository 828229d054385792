import type { RgbImage } from '../core/image.js';

/** Encoding and decoding the evidence store needs; implemented by adapters/sharp-image-codec.ts. */
export interface ImageCodec {
  encodeJpeg(image: RgbImage, quality: number): Promise<Buffer>;
  /** Lossless RGB PNG. */
  encodePng(image: RgbImage): Promise<Buffer>;
  /**
   * Decodes a mask PNG (RGB, RGBA, grey or palette) to RGB888 at `size`: transparency flattened onto
   * black, resized nearest-neighbour so class colours survive. Rejects with PAYLOAD_INVALID on anything else.
   */
  decodeMask(png: Buffer, size: { width: number; height: number }): Promise<RgbImage>;
}
