import { LookoutError } from '../core/errors.js';

/** The encoded formats we document and decode (README, "Frame sources"); the file name never counts. */
export type AcceptedFormat = 'jpeg' | 'png';
export const ACCEPTED = 'JPEG or PNG';

const startsWith = (bytes: Buffer, sig: readonly number[], at = 0): boolean => sig.every((b, i) => bytes[at + i] === b);
const ascii = (bytes: Buffer, text: string, at = 0): boolean => bytes.length >= at + text.length && bytes.toString('latin1', at, at + text.length) === text;

/** Formats libvips (or a future libvips) could decode that we refuse, by their signature: named in the error. */
const REFUSED: readonly { readonly name: string; readonly test: (b: Buffer) => boolean }[] = [
  { name: 'webp', test: (b) => ascii(b, 'RIFF') && ascii(b, 'WEBP', 8) },
  { name: 'gif', test: (b) => ascii(b, 'GIF8') },
  { name: 'tiff', test: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { name: 'bmp', test: (b) => ascii(b, 'BM') },
  { name: 'heif/avif', test: (b) => ascii(b, 'ftyp', 4) },
  { name: 'jpeg 2000', test: (b) => startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51]) },
  { name: 'jpeg xl', test: (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) },
  { name: 'pdf', test: (b) => ascii(b, '%PDF') },
  // SVG and other XML: text that opens with `<` after an optional BOM and white space
  { name: 'svg', test: (b) => /^(\uFEFF)?\s*</.test(b.toString('utf8', 0, Math.min(b.length, 256))) },
];

function unsupported(name: string): LookoutError {
  return new LookoutError('FRAME_UNSUPPORTED_FORMAT', `frame is ${name}, not ${ACCEPTED}`, { details: { format: name } });
}

/**
 * The frame's format from its first bytes, before any decoder sees it: JPEG or PNG, else
 * FRAME_UNSUPPORTED_FORMAT for a format we recognise (svg, webp, gif…) or FRAME_CORRUPT for bytes that
 * are no image we know.
 */
export function sniffFormat(bytes: Buffer): AcceptedFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  const refused = REFUSED.find((f) => f.test(bytes));
  if (refused) throw unsupported(refused.name);
  throw new LookoutError('FRAME_CORRUPT', `frame could not be decoded: its bytes are not ${ACCEPTED}`);
}

/** The decoder's own word on the format (sharp's metadata().format) must agree with the signature. */
export function checkDecodedFormat(sniffed: AcceptedFormat, decoded: string | undefined): void {
  if (decoded !== sniffed) throw unsupported(decoded ?? 'unknown');
}
