import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { preprocessSchema } from '../../src/config/slices/preprocess.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { makeJpeg, makePng } from '../helpers/images.js';

/** Issue 17, item 9: JPEG and PNG only, known by their bytes (never the name), and no extreme aspect ratio. */

const named = (bytes: Buffer, origin: string): Frame => ({ id: 'cam-1-1', cameraId: 'cam', capturedAt: 1, origin, data: { kind: 'encoded', bytes } });
const raw = (width: number, height: number): Frame => ({ id: 'cam-1-2', cameraId: 'cam', capturedAt: 1, data: { kind: 'raw', width, height, pixels: Buffer.alloc(width * height * 3) } });

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isLookoutError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  return { code: 'resolved', message: '' };
}

const svg = Buffer.from('<?xml version="1.0"?>\n<svg width="320" height="240" xmlns="http://www.w3.org/2000/svg"><rect width="320" height="240" fill="#808080"/></svg>');
const pixels = () => sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 90, g: 90, b: 90 } } });

describe('image formats', () => {
  const pre = createPreprocessor(preprocessSchema.parse({ width: 64, height: 64 }));

  it.each([
    ['an SVG named .png', () => Promise.resolve(svg), 'svg'],
    ['an SVG without an XML declaration', () => Promise.resolve(Buffer.from(` \n${svg.toString().split('\n')[1]}`)), 'svg'],
    ['a WebP named .jpg', () => pixels().webp().toBuffer(), 'webp'],
    ['a GIF named .png', () => pixels().gif().toBuffer(), 'gif'],
    ['a TIFF named .jpg', () => pixels().tiff().toBuffer(), 'tiff'],
  ])('refuses %s with FRAME_UNSUPPORTED_FORMAT naming the format', async (_name, make, format) => {
    const r = await refusal(pre.run(named(await make(), 'frame.png')));
    expect(r.code).toBe('FRAME_UNSUPPORTED_FORMAT');
    expect(r.message).toContain(format);
    expect(r.message).toMatch(/JPEG or PNG/);
  });

  it('accepts JPEG and PNG whatever the file is called', async () => {
    expect((await pre.run(named(await makeJpeg({ width: 160, height: 120 }), 'frame.png'))).width).toBe(64);
    expect((await pre.run(named(await makePng({ width: 160, height: 120 }), 'frame.webp'))).width).toBe(64);
  });
});

describe('aspect ratio', () => {
  const pre = createPreprocessor(preprocessSchema.parse({ width: 64, height: 64 }));

  it('refuses a frame longer than 20:1 either way with FRAME_INVALID_SIZE, before decoding', async () => {
    for (const [w, h] of [[2100, 100], [100, 2100]] as const) {
      const r = await refusal(pre.run(named(await makePng({ width: w, height: h }), 'long.png')));
      expect(r).toMatchObject({ code: 'FRAME_INVALID_SIZE' });
      expect(r.message).toMatch(/aspect ratio .* over 20:1/);
    }
    expect((await refusal(pre.run(raw(1300, 64)))).code).toBe('FRAME_INVALID_SIZE');
  });

  it('accepts 20:1 exactly', async () => {
    expect((await pre.run(named(await makeJpeg({ width: 2000, height: 100 }), 'wide.jpg'))).width).toBe(64);
  });
});
