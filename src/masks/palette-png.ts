import { crc32, deflateSync } from 'node:zlib';
import { LookoutError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';

/** The colour of each palette index, as 0xRRGGBB. Index 0 is background (black) by convention. */
export type Palette = readonly number[];

export interface IndexedImage {
  readonly width: number;
  readonly height: number;
  readonly palette: Palette;
  /** One palette index per pixel. */
  readonly indices: Uint8Array;
}

/**
 * Maps an RGB mask onto an exact palette: black first, then `preferred` colours (the classes, in
 * order, so index i is class i-1), then any other colour in order of appearance. Undefined when the
 * mask has more than 256 colours (not a class mask; the caller quantises instead).
 */
export function indexMask(mask: RgbImage, preferred: readonly number[] = []): IndexedImage | undefined {
  const { width, height, pixels } = mask;
  if (pixels.length !== width * height * 3) throw new LookoutError('INTERNAL', `mask has ${pixels.length} bytes for ${width}x${height} RGB`);
  const palette: number[] = [0x000000];
  const index = new Map<number, number>([[0x000000, 0]]);
  for (const c of preferred) {
    if (!index.has(c) && palette.length < 256) {
      index.set(c, palette.length);
      palette.push(c);
    }
  }
  const indices = new Uint8Array(width * height);
  for (let p = 0, i = 0; p < indices.length; p += 1, i += 3) {
    const c = ((pixels[i] ?? 0) << 16) | ((pixels[i + 1] ?? 0) << 8) | (pixels[i + 2] ?? 0);
    let k = index.get(c);
    if (k === undefined) {
      if (palette.length === 256) return undefined;
      k = palette.length;
      index.set(c, k);
      palette.push(c);
    }
    indices[p] = k;
  }
  return { width, height, palette, indices };
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG (colour type 3, 8-bit indices, exact PLTE) of an indexed image. Lossless by construction. */
export function encodeIndexedPng(img: IndexedImage): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // colour type: palette
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const plte = Buffer.alloc(img.palette.length * 3);
  img.palette.forEach((c, i) => {
    plte[i * 3] = (c >> 16) & 0xff;
    plte[i * 3 + 1] = (c >> 8) & 0xff;
    plte[i * 3 + 2] = c & 0xff;
  });
  const raw = Buffer.alloc((img.width + 1) * img.height);
  for (let y = 0; y < img.height; y += 1) {
    raw[y * (img.width + 1)] = 0; // filter: none (masks are flat areas; deflate does the rest)
    raw.set(img.indices.subarray(y * img.width, (y + 1) * img.width), y * (img.width + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', plte),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function hexToRgb24(hex: string): number | undefined {
  return /^#[0-9a-f]{6}$/i.test(hex) ? Number.parseInt(hex.slice(1), 16) : undefined;
}
