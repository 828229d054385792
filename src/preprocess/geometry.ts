import { LookoutError } from '../core/errors.js';
import { MAX_SIDE, MIN_SIDE } from '../core/image.js';

export interface Roi {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Throws FRAME_INVALID_SIZE unless the ROI lies inside a width×height image. */
export function checkRoi(roi: Roi, width: number, height: number): void {
  if (roi.left + roi.width > width || roi.top + roi.height > height) {
    throw new LookoutError('FRAME_INVALID_SIZE', `ROI ${roi.width}x${roi.height}+${roi.left}+${roi.top} does not fit in the ${width}x${height} frame`, {
      details: { roi, width, height },
    });
  }
}

/** Throws FRAME_INVALID_SIZE unless both sides are within the Edge Agent's 64..4096. */
export function checkOutputSize(width: number, height: number): void {
  if (width < MIN_SIDE || height < MIN_SIDE || width > MAX_SIDE || height > MAX_SIDE) {
    throw new LookoutError('FRAME_INVALID_SIZE', `frame is ${width}x${height}; the model accepts ${MIN_SIDE}..${MAX_SIDE} per side`, { details: { width, height } });
  }
}

/** The longest side may be at most this many times the shortest (a 1×N strip is no inspection image). */
export const MAX_ASPECT = 20;

/** Throws FRAME_INVALID_SIZE when one side is more than MAX_ASPECT times the other. */
export function checkAspect(width: number, height: number): void {
  const [long, short] = width >= height ? [width, height] : [height, width];
  if (short <= 0 || long > short * MAX_ASPECT) {
    const ratio = short > 0 ? Math.round(long / short) : Infinity;
    throw new LookoutError('FRAME_INVALID_SIZE', `frame is ${width}x${height}: aspect ratio ${ratio}:1 is over ${MAX_ASPECT}:1`, { details: { width, height } });
  }
}

/** EXIF orientations 5–8 swap width and height. */
export function orientedSize(width: number, height: number, orientation: number | undefined): { width: number; height: number } {
  return orientation !== undefined && orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
}

export function parseHexColor(hex: string): { r: number; g: number; b: number } {
  const n = Number.parseInt(hex.slice(1), 16);
  return { r: (n >> 16) & 0xff, g: (n >> 8) & 0xff, b: n & 0xff };
}
