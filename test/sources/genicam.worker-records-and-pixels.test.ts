import { describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { GENICAM_PIXEL_FORMATS, demosaicBayer, toRawFrame, wideMonoTo8 } from '../../src/sources/genicam/pixel-formats.js';
import { HEADER_BYTES, WorkerRecordParser } from '../../src/sources/genicam/worker-records.js';

/** One record as workers/arv-worker.py writes it (struct '<4sBBHIIIQQI'). */
function record(kind: 1 | 2, payload: Buffer, fields: { status?: number; width?: number; height?: number; pixelFormat?: number; frameId?: number } = {}): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('LKGC', 0, 'latin1');
  h.writeUInt8(kind, 4);
  h.writeUInt16LE(fields.status ?? 0, 6);
  h.writeUInt32LE(fields.width ?? 0, 8);
  h.writeUInt32LE(fields.height ?? 0, 12);
  h.writeUInt32LE(fields.pixelFormat ?? 0, 16);
  h.writeBigUInt64LE(BigInt(fields.frameId ?? 0), 20);
  h.writeBigUInt64LE(123n, 28);
  h.writeUInt32LE(payload.length, 36);
  return Buffer.concat([h, payload]);
}

describe('GenICam worker records', () => {
  it('reads messages and frames however the pipe splits them, byte by byte included', () => {
    const pixels = Buffer.from([1, 2, 3, 4, 5, 6]);
    const stream = Buffer.concat([
      record(2, Buffer.from(JSON.stringify({ type: 'ready' }))),
      record(1, pixels, { width: 3, height: 2, pixelFormat: GENICAM_PIXEL_FORMATS.Mono8, frameId: 7 }),
      record(1, Buffer.alloc(0), { status: 3, frameId: 8 }),
    ]);
    for (const step of [1, 7, 40, stream.length]) {
      const parser = new WorkerRecordParser(1024);
      const out = [];
      for (let i = 0; i < stream.length; i += step) out.push(...parser.push(stream.subarray(i, i + step)));
      expect(out).toEqual([
        { kind: 'message', body: { type: 'ready' } },
        { kind: 'frame', status: 0, width: 3, height: 2, pixelFormat: GENICAM_PIXEL_FORMATS.Mono8, frameId: 7, timestampNs: 123n, pixels },
        { kind: 'frame', status: 3, width: 0, height: 0, pixelFormat: 0, frameId: 8, timestampNs: 123n, pixels: Buffer.alloc(0) },
      ]);
    }
  });

  it('refuses garbage, a frame over the limit and a message that is not JSON with SOURCE_PROTOCOL', () => {
    const bad = [Buffer.alloc(HEADER_BYTES, 0x41), record(1, Buffer.alloc(2048)), record(2, Buffer.from('not json')), record(2, Buffer.from('{"no":"type"}'))];
    for (const bytes of bad) {
      let caught: unknown;
      try {
        new WorkerRecordParser(1024).push(bytes);
      } catch (err) {
        caught = err;
      }
      expect(isLookoutError(caught, 'SOURCE_PROTOCOL'), String(caught)).toBe(true);
    }
  });
});

describe('GenICam pixel formats', () => {
  it('Mono8 goes as one channel, untouched; RGB8 as packed RGB', () => {
    const mono = Buffer.from([10, 20, 30, 40]);
    expect(toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.Mono8, mono)).toEqual({ kind: 'raw', width: 2, height: 2, pixels: mono, channels: 1 });
    const rgb = Buffer.alloc(12, 9);
    expect(toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.RGB8, rgb)).toEqual({ kind: 'raw', width: 2, height: 2, pixels: rgb });
  });

  it('a buffer that does not match its size, or a format we do not take (packed Mono12p), is SOURCE_PROTOCOL', () => {
    expect(() => toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.Mono8, Buffer.alloc(3))).toThrowError(/Mono8 buffer of 3 bytes for 2x2/);
    expect(() => toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.Mono12, Buffer.alloc(4))).toThrowError(/Mono12 buffer of 4 bytes for 2x2/);
    expect(() => toRawFrame(2, 2, 0x010c_0047, Buffer.alloc(6))).toThrowError(/pixel format 0x10c0047/);
  });

  it('Mono10, Mono12 and Mono16 keep their top 8 bits as one channel, whatever the buffer\'s alignment; stray high bits saturate', () => {
    const words = (values: number[]) => {
      const b = Buffer.alloc(values.length * 2);
      values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
      return b;
    };
    expect(toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.Mono10, words([0, 4, 1023, 512]))).toEqual({ kind: 'raw', width: 2, height: 2, pixels: Buffer.from([0, 1, 255, 128]), channels: 1 });
    expect(toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.Mono12, words([15, 16, 4095, 0xffff])).pixels).toEqual(Buffer.from([0, 1, 255, 255]));
    expect(toRawFrame(2, 2, GENICAM_PIXEL_FORMATS.Mono16, words([255, 256, 0x8000, 0xffff])).pixels).toEqual(Buffer.from([0, 1, 128, 255]));
    // a frame cut from the pipe at an odd offset cannot be viewed as 16-bit words: same answer
    const odd = Buffer.concat([Buffer.from([7]), words([0x1234, 0xabcd])]).subarray(1);
    expect(odd.byteOffset % 2).toBe(1);
    expect(wideMonoTo8(odd, 8)).toEqual(Buffer.from([0x12, 0xab]));
  });

  it('each Bayer order puts red, green and blue where they belong, odd sizes included', () => {
    // a flat scene: red 200, green 100, blue 50, laid out in each order's 2x2 cell
    const cells = { BayerRG8: [200, 100, 100, 50], BayerGR8: [100, 200, 50, 100], BayerGB8: [100, 50, 200, 100], BayerBG8: [50, 100, 100, 200] } as const;
    for (const [format, [a, b, c, d]] of Object.entries(cells)) {
      for (const [width, height] of [[4, 4], [5, 3], [1, 1]] as const) {
        const bayer = Buffer.alloc(width * height);
        for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) bayer[y * width + x] = (y % 2 === 0 ? (x % 2 === 0 ? a : b) : x % 2 === 0 ? c : d) as number;
        const rgb = demosaicBayer(width, height, bayer, format as keyof typeof cells);
        expect(rgb.length).toBe(width * height * 3);
        if (width === 1) continue; // a single pixel has one colour only
        for (let i = 0; i < width * height; i++) expect([...rgb.subarray(i * 3, i * 3 + 3)], `${format} ${width}x${height} pixel ${i}`).toEqual([200, 100, 50]);
      }
    }
  });
});
