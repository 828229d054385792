import type { RgbImage } from '../core/image.js';
import { quantisedPng } from './adapters/sharp-mask-images.js';
import { encodeIndexedPng, hexToRgb24, indexMask } from './palette-png.js';

/**
 * The mask as a small palette PNG. Class masks (≤256 colours) get an exact palette: index 0 is
 * black background, then the classes' colours in the order given. Others are quantised by sharp.
 */
export async function encodeMaskPng(mask: RgbImage, classColors: readonly string[] = []): Promise<Buffer> {
  const preferred = classColors.map(hexToRgb24).filter((c): c is number => c !== undefined);
  const indexed = indexMask(mask, preferred);
  return indexed ? encodeIndexedPng(indexed) : quantisedPng(mask);
}
