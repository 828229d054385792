import { describe, expect, it } from 'vitest';
import { isLookoutError, type LookoutError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { preprocessSchema } from '../../src/config/slices/preprocess.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { makeGarbage, makeGreyPng, makeJpeg, makePng, makePngBomb, makeRgbaPng, makeTruncatedJpeg, pixelAt } from '../helpers/images.js';

const encoded = (bytes: Buffer): Frame => ({ id: 'cam-1-1', cameraId: 'cam', capturedAt: 1, data: { kind: 'encoded', bytes } });
const raw = (width: number, height: number, pixels: Buffer): Frame => ({ id: 'cam-1-2', cameraId: 'cam', capturedAt: 1, data: { kind: 'raw', width, height, pixels } });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isLookoutError(err)) return (err as LookoutError).code;
    throw err;
  }
  return 'resolved';
}

describe('sharp preprocessor', () => {
  it('resizes a JPEG to the model size as packed RGB888 (red stays red: not BGR)', async () => {
    const pre = createPreprocessor(preprocessSchema.parse({ width: 128, height: 96 }));
    const out = await pre.run(encoded(await makeJpeg({ width: 640, height: 480 })));
    expect([out.width, out.height, out.sourceWidth, out.sourceHeight]).toEqual([128, 96, 640, 480]);
    expect(out.pixels.length).toBe(128 * 96 * 3);
    const [r, g, b] = pixelAt(out, 10, 10);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(50);
    expect(b).toBeLessThan(50);
    expect(pixelAt(out, 100, 80)[0]).toBeLessThan(160);
  });

  it('applies EXIF orientation before the ROI', async () => {
    // 200x100 stored, orientation 6 (rotate 90° clockwise) → 100x200 upright; the red top-left
    // quadrant of the stored image ends up top-right.
    const pre = createPreprocessor(preprocessSchema.parse({}));
    const jpeg = await makeJpeg({ width: 200, height: 100, orientation: 6 });
    const out = await pre.run(encoded(jpeg));
    expect([out.width, out.height]).toEqual([100, 200]);
    expect(pixelAt(out, 90, 10)[0]).toBeGreaterThan(200);
    expect(pixelAt(out, 10, 10)[0]).toBeLessThan(160);
    const roi = createPreprocessor(preprocessSchema.parse({ roi: { left: 0, top: 100, width: 100, height: 100 } }));
    const cropped = await roi.run(encoded(jpeg));
    expect([cropped.width, cropped.height, cropped.sourceWidth, cropped.sourceHeight]).toEqual([100, 100, 100, 200]);
    expect(pixelAt(cropped, 90, 10)[0]).toBeLessThan(160);
  });

  it('crops the ROI, and rejects one outside the frame with FRAME_INVALID_SIZE', async () => {
    const png = await makePng({ width: 400, height: 300 });
    const pre = createPreprocessor(preprocessSchema.parse({ roi: { left: 0, top: 0, width: 200, height: 150 }, width: 64, height: 64 }));
    const out = await pre.run(encoded(png));
    expect([out.width, out.height]).toEqual([64, 64]);
    expect(pixelAt(out, 60, 60)[0]).toBe(255); // the ROI is the red quadrant only
    const outside = createPreprocessor(preprocessSchema.parse({ roi: { left: 300, top: 0, width: 200, height: 100 } }));
    expect(await code(outside.run(encoded(png)))).toBe('FRAME_INVALID_SIZE');
  });

  it('fit keeps the aspect ratio and pads with the configured colour', async () => {
    const pre = createPreprocessor(preprocessSchema.parse({ width: 100, height: 100, resize: 'fit', padColor: '#00FF00' }));
    const out = await pre.run(encoded(await makePng({ width: 200, height: 100, color: { r: 0, g: 0, b: 255 } })));
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(pixelAt(out, 50, 5)).toEqual([0, 255, 0]); // padding above
    expect(pixelAt(out, 75, 50)).toEqual([0, 0, 255]); // image
  });

  it('removes alpha and expands greyscale to three channels', async () => {
    const pre = createPreprocessor(preprocessSchema.parse({}));
    const rgba = await pre.run(encoded(await makeRgbaPng(80, 80)));
    expect(rgba.pixels.length).toBe(80 * 80 * 3);
    const grey = await pre.run(encoded(await makeGreyPng(80, 80)));
    expect(grey.pixels.length).toBe(80 * 80 * 3);
    expect(pixelAt(grey, 1, 1)).toEqual([90, 90, 90]);
  });

  it('turns corrupt, truncated and empty files into FRAME_CORRUPT', async () => {
    const pre = createPreprocessor(preprocessSchema.parse({ width: 64, height: 64 }));
    expect(await code(pre.run(encoded(Buffer.alloc(0))))).toBe('FRAME_CORRUPT');
    expect(await code(pre.run(encoded(makeGarbage())))).toBe('FRAME_CORRUPT');
    expect(await code(pre.run(encoded(await makeTruncatedJpeg())))).toBe('FRAME_CORRUPT');
    expect(await code(pre.run(raw(100, 100, Buffer.alloc(17))))).toBe('FRAME_CORRUPT');
  });

  it('refuses a decompression bomb and oversize bytes with FRAME_TOO_LARGE, quickly', async () => {
    const bomb = makePngBomb();
    expect(bomb.length).toBeLessThan(100_000);
    const pre = createPreprocessor(preprocessSchema.parse({ width: 64, height: 64 }));
    const started = Date.now();
    expect(await code(pre.run(encoded(bomb)))).toBe('FRAME_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(1_000);
    const small = createPreprocessor(preprocessSchema.parse({ maxInputBytes: 1_000 }));
    expect(await code(small.run(encoded(await makeJpeg({ width: 300, height: 300 }))))).toBe('FRAME_TOO_LARGE');
  });

  it('rejects results outside 64..4096 with FRAME_INVALID_SIZE', async () => {
    const pre = createPreprocessor(preprocessSchema.parse({}));
    expect(await code(pre.run(encoded(await makeJpeg({ width: 50, height: 200 }))))).toBe('FRAME_INVALID_SIZE');
    const roi = createPreprocessor(preprocessSchema.parse({ roi: { left: 0, top: 0, width: 10, height: 10 } }));
    expect(await code(roi.run(encoded(await makeJpeg({ width: 100, height: 100 }))))).toBe('FRAME_INVALID_SIZE');
  });

  it('sends raw RGB frames (RTSP) through the same ROI and resize; passes them through untouched otherwise', async () => {
    const w = 160;
    const h = 120;
    const pixels = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i += 1) pixels[i * 3] = i % w < 80 ? 255 : 0; // left half red
    const same = await createPreprocessor(preprocessSchema.parse({})).run(raw(w, h, pixels));
    expect(same.pixels).toBe(pixels);
    const pre = createPreprocessor(preprocessSchema.parse({ roi: { left: 80, top: 0, width: 80, height: 120 }, width: 64, height: 96 }));
    const out = await pre.run(raw(w, h, pixels));
    expect([out.width, out.height, out.sourceWidth]).toEqual([64, 96, 160]);
    expect(pixelAt(out, 30, 30)).toEqual([0, 0, 0]);
  });
});
