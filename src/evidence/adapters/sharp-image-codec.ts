import sharp from 'sharp';
import { LookoutError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import type { ImageCodec } from '../image-codec.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Masks are at most the protocol's largest image. */
const MAX_MASK_PIXELS = 4096 * 4096;

const raw = (image: RgbImage) => sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });

export function createSharpImageCodec(): ImageCodec {
  return {
    encodeJpeg: (image, quality) => raw(image).jpeg({ quality }).toBuffer(),
    encodePng: (image) => raw(image).png({ compressionLevel: 6 }).toBuffer(),
    async decodeMask(png, size) {
      if (png.length < PNG_SIGNATURE.length || !png.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
        throw new LookoutError('PAYLOAD_INVALID', 'the mask is not a PNG');
      }
      try {
        const { data, info } = await sharp(png, { limitInputPixels: MAX_MASK_PIXELS })
          .flatten({ background: '#000000' })
          .toColourspace('srgb')
          .removeAlpha()
          .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
          .raw()
          .toBuffer({ resolveWithObject: true });
        if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
        return { width: info.width, height: info.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      } catch (err) {
        throw new LookoutError('PAYLOAD_INVALID', `the mask PNG cannot be decoded: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
