import { LookoutError } from '../../core/errors.js';

export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  /** Packed RGB888. */
  readonly pixels: Buffer;
}

const MAX_SIDE = 16_384;
const MAX_HEADER = 64;

/**
 * Splits ffmpeg's `-f image2pipe -c:v ppm` output into frames. Each frame is a binary PPM: the
 * header `P6 <w> <h> 255` (whitespace separated, one whitespace byte before the data) and then
 * w·h·3 bytes of packed RGB. Unlike `-f rawvideo` the size travels with every frame, so no ffprobe
 * round trip is needed and a camera changing resolution mid-stream is handled.
 */
export class PpmStreamParser {
  private header: Buffer = Buffer.alloc(0);
  private current: { width: number; height: number; pixels: Buffer; filled: number } | undefined;

  /** Feeds bytes; returns the frames completed by them. Throws SOURCE_PROTOCOL on garbage. */
  push(chunk: Buffer): RgbFrame[] {
    const out: RgbFrame[] = [];
    let data = chunk;
    while (data.length > 0) {
      if (!this.current) {
        this.header = this.header.length === 0 ? data : Buffer.concat([this.header, data]);
        const parsed = parseHeader(this.header);
        if (!parsed) {
          if (this.header.length > MAX_HEADER) throw new LookoutError('SOURCE_PROTOCOL', 'ffmpeg output is not a PPM stream');
          return out;
        }
        this.current = { width: parsed.width, height: parsed.height, pixels: Buffer.allocUnsafe(parsed.width * parsed.height * 3), filled: 0 };
        data = this.header.subarray(parsed.length);
        this.header = Buffer.alloc(0);
        continue;
      }
      const frame = this.current;
      const take = Math.min(data.length, frame.pixels.length - frame.filled);
      data.copy(frame.pixels, frame.filled, 0, take);
      frame.filled += take;
      data = data.subarray(take);
      if (frame.filled === frame.pixels.length) {
        out.push({ width: frame.width, height: frame.height, pixels: frame.pixels });
        this.current = undefined;
      }
    }
    return out;
  }
}

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function parseHeader(buf: Buffer): { width: number; height: number; length: number } | undefined {
  if (buf.length < 2) return undefined;
  if (buf[0] !== 0x50 || buf[1] !== 0x36) throw new LookoutError('SOURCE_PROTOCOL', 'ffmpeg output is not a binary PPM (P6) stream');
  let i = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    while (i < buf.length && isSpace(buf[i])) i += 1;
    if (i >= buf.length) return undefined;
    if (buf[i] === 0x23) {
      while (i < buf.length && buf[i] !== 0x0a) i += 1;
      continue;
    }
    let value = 0;
    const start = i;
    while (i < buf.length && (buf[i] ?? 0) >= 0x30 && (buf[i] ?? 0) <= 0x39) {
      value = value * 10 + ((buf[i] ?? 0) - 0x30);
      i += 1;
    }
    if (i >= buf.length) return undefined;
    if (i === start || !isSpace(buf[i])) throw new LookoutError('SOURCE_PROTOCOL', 'malformed PPM header from ffmpeg');
    fields.push(value);
  }
  const [width = 0, height = 0, maxval = 0] = fields;
  if (maxval !== 255) throw new LookoutError('SOURCE_PROTOCOL', `unsupported PPM maxval ${maxval}`);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
    throw new LookoutError('SOURCE_PROTOCOL', `implausible frame size ${width}x${height} from ffmpeg`);
  }
  return { width, height, length: i + 1 };
}
