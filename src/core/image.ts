/** A packed, interleaved RGB888 image, row-major, no padding: `pixels.length === width * height * 3`. */
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
