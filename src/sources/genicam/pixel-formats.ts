import { endianness } from 'node:os';
import { LookoutError } from '../../core/errors.js';
import type { RawFrameData } from '../../core/frame.js';

/** The pixel formats we take from a GenICam camera (their GenICam names), with their PFNC codes. */
export const GENICAM_PIXEL_FORMATS = {
  Mono8: 0x0108_0001,
  RGB8: 0x0218_0014,
  BayerGR8: 0x0108_0008,
  BayerRG8: 0x0108_0009,
  BayerGB8: 0x0108_000a,
  BayerBG8: 0x0108_000b,
  // unpacked: N significant bits in a little-endian 16-bit word
  Mono10: 0x0110_0003,
  Mono12: 0x0110_0005,
  Mono16: 0x0110_0007,
} as const;
export type GenicamPixelFormat = keyof typeof GENICAM_PIXEL_FORMATS;
export type BayerFormat = 'BayerRG8' | 'BayerGR8' | 'BayerGB8' | 'BayerBG8';

/** Wide mono formats: the shift that keeps a pixel's top 8 bits. */
const WIDE_MONO_SHIFT: Partial<Record<GenicamPixelFormat, number>> = { Mono10: 2, Mono12: 4, Mono16: 8 };
const LITTLE_ENDIAN = endianness() === 'LE';

const BY_CODE = new Map<number, GenicamPixelFormat>(Object.entries(GENICAM_PIXEL_FORMATS).map(([name, code]) => [code, name as GenicamPixelFormat]));

/** Where red sits in the 2x2 Bayer cell: [row, column]; blue is diagonal to it. */
const RED_AT: Record<BayerFormat, readonly [number, number]> = { BayerRG8: [0, 0], BayerGR8: [0, 1], BayerGB8: [1, 0], BayerBG8: [1, 1] };

/**
 * A camera buffer as the pipeline's raw frame. Mono8 goes as one channel (sharp turns it into RGB
 * while it resizes, at no measurable cost), Mono10/12/16 too once scaled to 8 bits (wideMonoTo8),
 * RGB8 as is, Bayer through demosaicBayer(). A buffer whose length does not match its size and format
 * is SOURCE_PROTOCOL.
 */
export function toRawFrame(width: number, height: number, pixelFormat: number, pixels: Buffer): RawFrameData {
  const name = BY_CODE.get(pixelFormat);
  if (!name) throw new LookoutError('SOURCE_PROTOCOL', `the camera sent pixel format 0x${pixelFormat.toString(16)}, which we do not take`);
  const shift = WIDE_MONO_SHIFT[name];
  const bytesPerPixel = name === 'RGB8' ? 3 : shift !== undefined ? 2 : 1;
  if (width < 1 || height < 1 || pixels.length !== width * height * bytesPerPixel) {
    throw new LookoutError('SOURCE_PROTOCOL', `a ${name} buffer of ${pixels.length} bytes for ${width}x${height}`);
  }
  if (name === 'Mono8') return { kind: 'raw', width, height, pixels, channels: 1 };
  if (shift !== undefined) return { kind: 'raw', width, height, pixels: wideMonoTo8(pixels, shift), channels: 1 };
  if (name === 'RGB8') return { kind: 'raw', width, height, pixels };
  return { kind: 'raw', width, height, pixels: demosaicBayer(width, height, pixels, name as BayerFormat) };
}

/**
 * Unpacked Mono10/12/16 (little-endian 16-bit words) to 8 bits: one shift per pixel, keeping the top 8
 * of the format's bits; a value above the format's range (stray high bits) saturates at 255.
 */
export function wideMonoTo8(words: Buffer, shift: number): Buffer {
  const n = words.length >> 1;
  const out = Buffer.allocUnsafe(n);
  if (LITTLE_ENDIAN && words.byteOffset % 2 === 0) {
    // a 16-bit view reads each pixel in one load (a third faster than two bytes: BENCHMARKS.md)
    const view = new Uint16Array(words.buffer, words.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const v = (view[i] as number) >> shift;
      out[i] = v > 255 ? 255 : v;
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const v = ((words[j] as number) | ((words[j + 1] as number) << 8)) >> shift;
      out[i] = v > 255 ? 255 : v;
    }
  }
  return out;
}

/**
 * Bayer 8-bit to packed RGB, per 2x2 cell: every pixel of a cell gets the cell's red, the mean of its
 * two greens and its blue. Full size out, colour at half resolution: what an inspection model resized
 * to a few hundred pixels sees anyway, for a fraction of a bilinear demosaic's cost (BENCHMARKS.md).
 * An odd last row or column repeats its neighbour's cell.
 */
export function demosaicBayer(width: number, height: number, bayer: Buffer, format: BayerFormat): Buffer {
  const [ry, rx] = RED_AT[format];
  const out = Buffer.allocUnsafe(width * height * 3);
  // the last whole cell starts on an even row and column (the pattern's phase)
  const lastY = Math.max(0, (height - 2) & ~1);
  const lastX = Math.max(0, (width - 2) & ~1);
  const stride = width * 3;
  for (let y = 0; y < height; y += 2) {
    const y0 = Math.min(y, lastY);
    const y1 = Math.min(y0 + 1, height - 1);
    const rowR = (ry === 0 ? y0 : y1) * width;
    const rowB = (ry === 0 ? y1 : y0) * width;
    const second = y + 1 < height;
    for (let x = 0; x < width; x += 2) {
      const x0 = Math.min(x, lastX);
      const x1 = Math.min(x0 + 1, width - 1);
      const xr = rx === 0 ? x0 : x1;
      const xb = rx === 0 ? x1 : x0;
      const r = bayer[rowR + xr] as number;
      const b = bayer[rowB + xb] as number;
      // the greens sit on the other diagonal
      const g = ((bayer[rowR + xb] as number) + (bayer[rowB + xr] as number) + 1) >> 1;
      const o = y * stride + x * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (x + 1 < width) {
        out[o + 3] = r;
        out[o + 4] = g;
        out[o + 5] = b;
      }
      if (second) {
        out[o + stride] = r;
        out[o + stride + 1] = g;
        out[o + stride + 2] = b;
        if (x + 1 < width) {
          out[o + stride + 3] = r;
          out[o + stride + 4] = g;
          out[o + stride + 5] = b;
        }
      }
    }
  }
  return out;
}
