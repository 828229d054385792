/**
 * A packed, interleaved RGB888 image, row-major, no padding: `pixels.length === width * height * 3`.
 * Never written to once made: its pixels belong to it alone (sources allocate each frame, sharp and
 * the shared-memory pool return fresh buffers), so a stage or sink may keep it without a copy (the
 * evidence queue does). Whatever draws on an image (the preview's mask blend) copies it first; a
 * source that reuses a buffer must copy before it hands a frame on.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/** Limits of the Edge Agent protocol. */
export const MIN_SIDE = 64;
export const MAX_SIDE = 4096;

export function rgbByteLength(width: number, height: number): number {
  return width * height * 3;
}
