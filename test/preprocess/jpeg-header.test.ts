import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { preprocessSchema } from '../../src/config/slices/preprocess.js';
import { jpegHeader } from '../../src/preprocess/adapters/jpeg-header.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { makeJpeg, makePng } from '../helpers/images.js';

const encoded = (bytes: Buffer) => ({ id: 'f', cameraId: 'cam', capturedAt: 1, data: { kind: 'encoded' as const, bytes } });

/** A comment (COM) segment of `size` payload bytes, inserted after SOI: pushes the SOF further on. */
function withComments(jpeg: Buffer, count: number, size = 60_000): Buffer {
  const segments = Array.from({ length: count }, () => {
    const seg = Buffer.alloc(4 + size, 0x20);
    seg.writeUInt16BE(0xfffe, 0);
    seg.writeUInt16BE(size + 2, 2);
    return seg;
  });
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

describe('JPEG header read in JS', () => {
  it('reads size and EXIF orientation of baseline and progressive JPEGs as sharp does', async () => {
    for (const jpeg of [
      await makeJpeg({ width: 200, height: 100, orientation: 6 }),
      await sharp(await makeJpeg({ width: 320, height: 240 })).jpeg({ progressive: true }).toBuffer(),
    ]) {
      const meta = await sharp(jpeg).metadata();
      expect(jpegHeader(jpeg)).toEqual({ width: meta.width, height: meta.height, ...(meta.orientation ? { orientation: meta.orientation } : {}) });
    }
  });

  it('leaves anything else to sharp: PNG, garbage after a JPEG marker, a SOF beyond the scan window', async () => {
    expect(jpegHeader(await makePng({ width: 64, height: 64 }))).toBeUndefined();
    const garbage = Buffer.alloc(16 << 20, 0x01);
    garbage.writeUInt16BE(0xffd8, 0);
    const t = performance.now();
    expect(jpegHeader(garbage)).toBeUndefined();
    // the scan is bounded: a 16 MiB corrupt frame costs what its first 64 KiB cost (tens of ms at most)
    expect(performance.now() - t).toBeLessThan(1000);
    expect(jpegHeader(withComments(await makeJpeg({ width: 320, height: 240 }), 2))).toBeUndefined();
  });

  it('the preprocessor still sizes those frames (through sharp) and refuses the corrupt one', async () => {
    const pre = createPreprocessor(preprocessSchema.parse({ roi: { left: 0, top: 0, width: 160, height: 120 }, width: 64, height: 64 }));
    const far = await pre.run(encoded(withComments(await makeJpeg({ width: 320, height: 240, orientation: 6 }), 2)));
    expect([far.sourceWidth, far.sourceHeight, far.width, far.height]).toEqual([240, 320, 64, 64]);
    const garbage = Buffer.alloc(1 << 20, 0x01);
    garbage.writeUInt16BE(0xffd8, 0);
    await expect(pre.run(encoded(garbage))).rejects.toSatisfy((err: unknown) => isLookoutError(err) && err.code === 'FRAME_CORRUPT');
  });

  it('refuses a JPEG whose header claims too many pixels before decoding it', async () => {
    const jpeg = Buffer.from(await makeJpeg({ width: 320, height: 240 }));
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(30_000, sof + 5); // height
    jpeg.writeUInt16BE(30_000, sof + 7); // width
    const pre = createPreprocessor(preprocessSchema.parse({ width: 64, height: 64 }));
    await expect(pre.run(encoded(jpeg))).rejects.toSatisfy((err: unknown) => isLookoutError(err) && err.code === 'FRAME_TOO_LARGE');
  });
});
