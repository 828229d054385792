import { JPG } from 'image-size/types/jpg';

/**
 * How much of a JPEG the header scan looks at. The size (SOF) follows the APP segments, and an EXIF
 * APP1 segment is at most 64 KiB; a frame whose SOF lies further on (a large ICC profile) is sized by
 * sharp instead. The bound also caps the scan's cost on corrupt bytes (image-size resyncs byte by byte).
 */
const SCAN_BYTES = 64 * 1024;

/**
 * A JPEG's size and EXIF orientation, read from its header in JavaScript: microseconds on the event loop,
 * where sharp's metadata() costs a trip through libuv's thread pool per frame. Undefined when the bytes
 * are not a JPEG whose header parses within the scan window; the caller then asks sharp, which also
 * reports what is wrong with a corrupt file.
 */
export function jpegHeader(bytes: Buffer): { width: number; height: number; orientation?: number } | undefined {
  if (!JPG.validate(bytes)) return undefined;
  try {
    const { width, height, orientation } = JPG.calculate(bytes.subarray(0, SCAN_BYTES));
    if (!(width > 0 && height > 0)) return undefined;
    return { width, height, ...(orientation !== undefined ? { orientation } : {}) };
  } catch {
    return undefined;
  }
}
