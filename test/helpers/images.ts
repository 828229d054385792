import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';

/** Test images made at test time with sharp (nothing binary is committed). */

export interface ImageOptions {
  readonly width: number;
  readonly height: number;
  /** Background colour; default a mid grey. */
  readonly color?: { r: number; g: number; b: number };
  /** EXIF orientation tag 1..8. */
  readonly orientation?: number;
}

/**
 * A width×height image whose top-left quadrant is red and the rest `color`, so orientation and
 * crops are visible in the pixels.
 */
function base(o: ImageOptions): sharp.Sharp {
  const { width, height } = o;
  const color = o.color ?? { r: 128, g: 128, b: 128 };
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      const red = x < width / 2 && y < height / 2;
      px[i] = red ? 255 : color.r;
      px[i + 1] = red ? 0 : color.g;
      px[i + 2] = red ? 0 : color.b;
    }
  }
  const img = sharp(px, { raw: { width, height, channels: 3 } });
  return o.orientation !== undefined ? img.withMetadata({ orientation: o.orientation }) : img;
}

export function makeJpeg(o: ImageOptions, quality = 90): Promise<Buffer> {
  return base(o).jpeg({ quality }).toBuffer();
}

export function makePng(o: ImageOptions): Promise<Buffer> {
  return base(o).png().toBuffer();
}

/** An RGBA PNG (alpha must be removed by the preprocessor). */
export function makeRgbaPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } })
    .png()
    .toBuffer();
}

/** A greyscale PNG (one channel; must come out as 3). */
export function makeGreyPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .greyscale()
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** The first half of a JPEG: a truncated file. */
export async function makeTruncatedJpeg(width = 320, height = 240): Promise<Buffer> {
  const full = await makeJpeg({ width, height });
  return full.subarray(0, Math.floor(full.length / 2));
}

/** Bytes that are no image at all. */
export function makeGarbage(bytes = 4096): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 1) b[i] = (i * 7919 + 13) & 0xff;
  return b;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * A decompression bomb: a valid 1-bit greyscale PNG of side×side pixels (default 10,000², i.e.
 * 100 megapixels) that is only a few kilobytes on disk.
 */
export function makePngBomb(side = 10_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = Math.ceil(side / 8) + 1;
  const raw = Buffer.alloc(row * side); // all zero: filter 0, black
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Decodes to packed RGB, for assertions. */
export async function decodeRgb(bytes: Buffer): Promise<{ width: number; height: number; pixels: Buffer }> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, pixels: data };
}

export function pixelAt(img: { width: number; pixels: Uint8Array }, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * 3;
  return [img.pixels[i] ?? -1, img.pixels[i + 1] ?? -1, img.pixels[i + 2] ?? -1];
}
