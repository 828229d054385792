import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import { masksSchema } from '../../src/config/slices/masks.js';
import { sharpMaskImages } from '../../src/masks/adapters/sharp-mask-images.js';
import { encodeMaskPng } from '../../src/masks/encode-mask.js';
import { MaskStore } from '../../src/masks/mask-store.js';
import { decodeRgb, pixelAt } from '../helpers/images.js';
import { memoryLogger } from '../sources/kit.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-masks-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A class mask: black background, a red square (scratch) and a teal bar (dent). */
function classMask(width = 256, height = 192, seed = 0): RgbImage {
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      if (x >= 20 + seed && x < 80 + seed && y >= 20 && y < 80) pixels.set([0xff, 0x00, 0x00], i);
      else if (y >= 150 && y < 160) pixels.set([0x23, 0xa4, 0x36], i);
    }
  }
  return { width, height, pixels };
}

function noisyFrame(width: number, height: number): RgbImage {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = (i * 2654435761) >>> 24;
  return { width, height, pixels };
}

const classes = [
  { name: 'scratch', hexColor: '#FF0000' },
  { name: 'dent', hexColor: '#23A436' },
];

describe('mask PNG encoding', () => {
  it('writes an exact palette PNG: every pixel decodes to its class colour, classes in order', async () => {
    const mask = classMask();
    const png = await encodeMaskPng(mask, sharpMaskImages, ['#23A436', '#FF0000']);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.isPalette).toBe(true);
    expect(png.length).toBeLessThan(2_000);
    const decoded = await decodeRgb(png);
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(mask.pixels))).toBe(true);
    // PLTE: black, then the classes in the order given
    const plte = png.indexOf('PLTE');
    expect([...png.subarray(plte + 4, plte + 13)]).toEqual([0, 0, 0, 0x23, 0xa4, 0x36, 0xff, 0, 0]);
  });

  it('falls back to a quantised palette PNG when the mask has more than 256 colours', async () => {
    const png = await encodeMaskPng(noisyFrame(64, 64), sharpMaskImages);
    expect((await sharp(png).metadata()).format).toBe('png');
  });
});

describe('mask store', () => {
  it('saves the PNG and an overlay JPEG under <camera>/, with safe names and relative paths', async () => {
    const dir = await tempDir();
    const { log } = memoryLogger('silent');
    const store = new MaskStore({ config: masksSchema.parse({ dir }), log, images: sharpMaskImages });
    await store.start();
    const frame = noisyFrame(256, 192);
    const saved = await store.save({ verdictId: '../../etc/passwd v1', cameraId: 'cam/1', mask: classMask(), frame, classes });
    expect(saved.png).toMatch(/^cam_1~[0-9a-f]{8}\/_.*\.mask\.png$/);
    expect(saved.png).not.toContain('..');
    expect(saved.overlay).toMatch(/\.overlay\.jpg$/);
    const pngSize = (await stat(join(dir, saved.png))).size;
    const overlaySize = (await stat(join(dir, saved.overlay ?? ''))).size;
    expect(saved.bytes).toBe(pngSize + overlaySize);
    const overlay = await decodeRgb(await sharp(join(dir, saved.overlay ?? '')).toBuffer());
    expect([overlay.width, overlay.height]).toEqual([256, 192]);
    const [r, g, b] = pixelAt(overlay, 50, 50); // inside the red square: tinted towards red
    expect(r).toBeGreaterThan(g);
    expect(r).toBeGreaterThan(b);
    expect(store.usage()).toMatchObject({ files: 2, bytes: saved.bytes });
  });

  it('skips the overlay when configured off or without a frame', async () => {
    const dir = await tempDir();
    const store = new MaskStore({ config: masksSchema.parse({ dir, overlay: false }), log: memoryLogger('silent').log, images: sharpMaskImages });
    await store.start();
    const saved = await store.save({ verdictId: 'v1', cameraId: 'cam1', mask: classMask(), frame: noisyFrame(256, 192), classes });
    expect(saved.overlay).toBeUndefined();
    expect(await readdir(join(dir, 'cam1'))).toEqual(['v1.mask.png']);
  });

  it('deletes the oldest files first to stay under the quota, counting files from earlier runs', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'old-cam'), { recursive: true });
    await writeFile(join(dir, 'old-cam', 'ancient.mask.png'), Buffer.alloc(1_000));
    await writeFile(join(dir, 'old-cam', 'crashed.mask.png.tmp-1'), Buffer.alloc(10));
    const { log } = memoryLogger('silent');
    const store = new MaskStore({ config: masksSchema.parse({ dir, quotaBytes: 1_500, overlay: false }), log, images: sharpMaskImages });
    await store.start();
    expect(store.usage()).toMatchObject({ files: 1, bytes: 1_000 });
    const names: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      names.push((await store.save({ verdictId: `v${i}`, cameraId: 'cam1', mask: classMask(256, 192, i), classes })).png);
    }
    expect(store.usage().bytes).toBeLessThanOrEqual(1_500);
    const left = (await readdir(join(dir, 'cam1'))).sort();
    expect(left).toContain('v11.mask.png');
    expect(left).not.toContain('v0.mask.png');
    expect(await readdir(join(dir, 'old-cam'))).toEqual([]);
    // a restart sees the same total
    const again = new MaskStore({ config: masksSchema.parse({ dir, quotaBytes: 1_500 }), log, images: sharpMaskImages });
    await again.start();
    expect(again.usage().bytes).toBe(store.usage().bytes);
  });

  it('keeps at most maxFiles files, the newest, so its memory of them stays bounded; a restart counts them again', async () => {
    const dir = await tempDir();
    const { log } = memoryLogger('silent');
    const config = masksSchema.parse({ dir, maxFiles: 5 });
    const store = new MaskStore({ config, log, images: sharpMaskImages });
    await store.start();
    for (let i = 0; i < 12; i += 1) {
      await store.save({ verdictId: `v${String(i).padStart(2, '0')}`, cameraId: 'cam1', mask: classMask(64, 48, i), frame: noisyFrame(64, 48), classes });
    }
    // Each save writes a mask and an overlay: the pair just written is never deleted, the oldest go first.
    const left = (await readdir(join(dir, 'cam1'))).sort();
    expect(left).toEqual(['v09.overlay.jpg', 'v10.mask.png', 'v10.overlay.jpg', 'v11.mask.png', 'v11.overlay.jpg']);
    expect(store.usage().files).toBe(5);
    const again = new MaskStore({ config, log, images: sharpMaskImages });
    await again.start();
    expect(again.usage()).toEqual(store.usage());
  });

  it('keeps at most maxFiles files, oldest deleted first, counting files from earlier runs', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'old-cam'), { recursive: true });
    for (const name of ['a', 'b', 'c', 'd']) await writeFile(join(dir, 'old-cam', `${name}.mask.png`), Buffer.alloc(10));
    const { log } = memoryLogger('silent');
    const config = masksSchema.parse({ dir, maxFiles: 3, overlay: false });
    const store = new MaskStore({ config, log, images: sharpMaskImages });
    await store.start();
    expect(store.usage().files).toBe(3);
    for (let i = 0; i < 5; i += 1) await store.save({ verdictId: `v${i}`, cameraId: 'cam1', mask: classMask(256, 192, i), classes });
    // the same name again replaces its file, it does not count twice
    await store.save({ verdictId: 'v4', cameraId: 'cam1', mask: classMask(256, 192, 9), classes });
    expect(store.usage().files).toBe(3);
    expect(await readdir(join(dir, 'old-cam'))).toEqual([]);
    expect((await readdir(join(dir, 'cam1'))).sort()).toEqual(['v2.mask.png', 'v3.mask.png', 'v4.mask.png']);
    const again = new MaskStore({ config, log, images: sharpMaskImages });
    await again.start();
    expect(again.usage()).toEqual(store.usage());
  });
});
