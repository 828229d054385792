import sharp from 'sharp';
import { LookoutError } from '../../core/errors.js';
import type { Frame, RawFrameData } from '../../core/frame.js';
import type { PreprocessConfig } from '../../config/slices/preprocess.js';
import { checkAspect, checkOutputSize, checkRoi, orientedSize, parseHexColor } from '../geometry.js';
import { type AcceptedFormat, checkDecodedFormat, sniffFormat } from '../image-format.js';
import type { PreprocessedFrame, Preprocessor } from '../preprocessor.js';
import { jpegHeader } from './jpeg-header.js';

export interface SharpSettings {
  /** libvips threads per image; default 1 (see configureSharp). */
  readonly threads?: number;
}

let configured = false;

/**
 * Process-wide sharp settings for a long-running agent: no operation/file cache (every frame is
 * new; the cache only grows memory), and one libvips thread per image by default. A JPEG decodes
 * serially whatever the count, so more threads per image buy a frame no lower latency and cost CPU in
 * hand-overs; the cores are used instead by preparing several frames at once (FrameScheduler).
 */
export function configureSharp(settings: SharpSettings = {}): void {
  if (configured) return;
  configured = true;
  sharp.cache(false);
  sharp.concurrency(Math.max(1, settings.threads ?? 1));
}

/**
 * decode (JPEG or PNG, or raw RGB or grey from RTSP and GenICam) → EXIF orientation → ROI → resize → packed RGB888.
 * Bad input never hangs or crashes: over the byte/pixel limits → FRAME_TOO_LARGE, undecodable or
 * truncated → FRAME_CORRUPT, any other format (SVG, WebP… by content, whatever the name) →
 * FRAME_UNSUPPORTED_FORMAT before a decoder sees it, over 20:1, an ROI outside the frame or a result
 * outside 64..4096 → FRAME_INVALID_SIZE.
 */
export class SharpPreprocessor implements Preprocessor {
  private readonly background: { r: number; g: number; b: number; alpha: number };

  constructor(private readonly config: PreprocessConfig) {
    this.background = { ...parseHexColor(config.padColor), alpha: 1 };
  }

  async run(frame: Frame): Promise<PreprocessedFrame> {
    return frame.data.kind === 'raw' ? this.runRaw(frame.data) : this.runEncoded(frame.data.bytes);
  }

  private async runEncoded(bytes: Buffer): Promise<PreprocessedFrame> {
    if (bytes.length === 0) throw new LookoutError('FRAME_CORRUPT', 'empty frame (0 bytes)');
    if (bytes.length > this.config.maxInputBytes) {
      throw new LookoutError('FRAME_TOO_LARGE', `frame has ${bytes.length} bytes, more than ${this.config.maxInputBytes}`, { details: { bytes: bytes.length } });
    }
    // 'truncated', not 'warning': many IP cameras emit JPEGs with harmless warnings (extraneous
    // bytes before a marker) that must still decode; a cut-off file must not.
    const options = { limitInputPixels: this.config.maxInputPixels, failOn: 'truncated' as const };
    const format = sniffFormat(bytes);
    const size = await this.sourceSize(bytes, format, options);
    return this.finish(sharp(bytes, options).rotate(), size.width, size.height);
  }

  /**
   * The frame's size after EXIF orientation, from its header (JPEG: read in JS; other formats or an
   * unusual JPEG: sharp's metadata); FRAME_CORRUPT or FRAME_TOO_LARGE.
   */
  private async sourceSize(bytes: Buffer, format: AcceptedFormat, options: sharp.SharpOptions): Promise<{ width: number; height: number }> {
    const header = (format === 'jpeg' ? jpegHeader(bytes) : undefined) ?? (await this.sharpHeader(bytes, format, options));
    if (header.width * header.height > this.config.maxInputPixels) {
      throw new LookoutError('FRAME_TOO_LARGE', `frame is ${header.width}x${header.height}, more than ${this.config.maxInputPixels} pixels`, {
        details: { width: header.width, height: header.height },
      });
    }
    checkAspect(header.width, header.height);
    return orientedSize(header.width, header.height, header.orientation);
  }

  private async sharpHeader(bytes: Buffer, format: AcceptedFormat, options: sharp.SharpOptions): Promise<{ width: number; height: number; orientation?: number }> {
    let meta: sharp.Metadata;
    try {
      meta = await sharp(bytes, options).metadata();
    } catch (err) {
      throw translate(err);
    }
    checkDecodedFormat(format, meta.format);
    if (meta.width === undefined || meta.height === undefined) throw new LookoutError('FRAME_CORRUPT', 'frame has no dimensions');
    return { width: meta.width, height: meta.height, ...(meta.orientation !== undefined ? { orientation: meta.orientation } : {}) };
  }

  private async runRaw(data: RawFrameData): Promise<PreprocessedFrame> {
    const { width, height, pixels } = data;
    const channels = data.channels ?? 3;
    if (pixels.length !== width * height * channels) {
      throw new LookoutError('FRAME_CORRUPT', `raw frame has ${pixels.length} bytes for ${width}x${height} ${channels === 1 ? 'grey' : 'RGB'}`);
    }
    if (width * height > this.config.maxInputPixels) throw new LookoutError('FRAME_TOO_LARGE', `raw frame is ${width}x${height}`);
    checkAspect(width, height);
    const { roi, width: outW, height: outH } = this.config;
    // Already RGB at the output size (no resize asked, or ffmpeg scaled the stream): nothing to do.
    if (channels === 3 && !roi && (outW === undefined || outW === width) && (outH === undefined || outH === height)) {
      checkOutputSize(width, height);
      return { width, height, pixels, sourceWidth: width, sourceHeight: height };
    }
    // grey becomes RGB in finish() (toColourspace), after the ROI and the resize: on the small image
    return this.finish(sharp(pixels, { raw: { width, height, channels }, limitInputPixels: this.config.maxInputPixels }), width, height);
  }

  private async finish(image: sharp.Sharp, sourceWidth: number, sourceHeight: number): Promise<PreprocessedFrame> {
    const { roi, width, height } = this.config;
    let expectW = sourceWidth;
    let expectH = sourceHeight;
    if (roi) {
      checkRoi(roi, sourceWidth, sourceHeight);
      image = image.extract(roi);
      expectW = roi.width;
      expectH = roi.height;
    }
    if (width !== undefined || height !== undefined) {
      if (width !== undefined && height !== undefined) {
        expectW = width;
        expectH = height;
      } else if (width !== undefined) {
        expectH = Math.round((expectH * width) / expectW);
        expectW = width;
      } else if (height !== undefined) {
        expectW = Math.round((expectW * height) / expectH);
        expectH = height;
      }
      // fail before decoding when the result cannot be sent anyway
      checkOutputSize(expectW, expectH);
      image = image.resize({
        ...(width !== undefined ? { width } : {}),
        ...(height !== undefined ? { height } : {}),
        fit: this.config.resize === 'fit' ? 'contain' : 'fill',
        background: this.background,
      });
    } else {
      checkOutputSize(expectW, expectH);
    }
    let out: { data: Buffer; info: sharp.OutputInfo };
    try {
      out = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw translate(err);
    }
    const { data, info } = out;
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new LookoutError('INTERNAL', `sharp produced ${info.channels} channels, ${data.length} bytes for ${info.width}x${info.height}`);
    }
    checkOutputSize(info.width, info.height);
    return { width: info.width, height: info.height, pixels: data, sourceWidth, sourceHeight };
  }
}

function translate(err: unknown): LookoutError {
  if (err instanceof LookoutError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new LookoutError('FRAME_TOO_LARGE', message, { cause: err });
  return new LookoutError('FRAME_CORRUPT', `frame could not be decoded: ${message}`, { cause: err });
}
