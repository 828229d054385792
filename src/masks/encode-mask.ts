import type { RgbImage } from '../core/image.js';
import type { MaskImages } from './mask-images.js';
import { encodeIndexedPng, hexToRgb24, indexMask } from './palette-png.js';

/**
 * The mask as a small palette PNG. Class masks (≤256 colours) get an exact palette: index 0 is
 * black background, then the classes' colours in the order given. Others are quantised by `images`.
 */
export async function encodeMaskPng(mask: RgbImage, images: Pick<MaskImages, 'quantisedPng'>, classColors: readonly string[] = []): Promise<Buffer> {
  const preferred = classColors.map(hexToRgb24).filter((c): c is number => c !== undefined);
  const indexed = indexMask(mask, preferred);
  return indexed ? encodeIndexedPng(indexed) : images.quantisedPng(mask);
}
