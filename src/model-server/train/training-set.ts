import { LookoutError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import type { ModelClass } from '../runtime.js';
import { resizeRgb } from '../runtimes/builtin/resize.js';
import { type ImageSize, imageSize, readRgb, readRgba } from './adapters/image-io.js';
import type { DatasetEntry } from './dataset.js';
import { decodeMask } from './mask-decoder.js';

export interface LoadedEntry {
  readonly entry: DatasetEntry;
  /** At the working size. */
  readonly image: RgbImage;
  /** Class-index map at the working size (0 = background), when the entry has a mask. */
  readonly mask?: Uint8Array;
}

function invalid(entry: DatasetEntry, reason: string, cause?: unknown): LookoutError {
  return new LookoutError('DATASET_INVALID', `${entry.origin}: ${reason}`, { cause, details: { origin: entry.origin, image: entry.image } });
}

/** The common source size of the entries: every image (and mask) must match it, as in Lookout for Vision. */
export async function checkSizes(entries: readonly DatasetEntry[]): Promise<ImageSize> {
  let size: ImageSize | undefined;
  let first = '';
  for (const e of entries) {
    let s: ImageSize;
    try {
      s = await imageSize(e.image);
    } catch (err) {
      throw invalid(e, `cannot decode image ${e.image} (${(err as Error).message})`, err);
    }
    if (s.width < 64 || s.height < 64 || s.width > 4096 || s.height > 4096) throw invalid(e, `image is ${s.width}x${s.height}; sides must be 64 to 4096`);
    if (!size) {
      size = s;
      first = e.origin;
    } else if (s.width !== size.width || s.height !== size.height) {
      throw invalid(e, `wrong size: image is ${s.width}x${s.height} but ${first} is ${size.width}x${size.height}; all images must share one size`);
    }
    if (e.mask) {
      let m: ImageSize;
      try {
        m = await imageSize(e.mask);
      } catch (err) {
        throw invalid(e, `cannot decode mask ${e.mask} (${(err as Error).message})`, err);
      }
      if (m.width !== s.width || m.height !== s.height) throw invalid(e, `wrong size: mask is ${m.width}x${m.height}, image is ${s.width}x${s.height}`);
    }
  }
  if (!size) throw new LookoutError('DATASET_INVALID', 'the dataset has no images');
  return size;
}

/**
 * The entry's image at the working size, resized by the runtimes' own resampler from the decoded
 * frame, as the model will see it at inference (see `createSharpBatchLoader`); its mask, if any.
 */
export async function loadEntry(entry: DatasetEntry, working: ImageSize, classes: readonly ModelClass[]): Promise<LoadedEntry> {
  let image: RgbImage;
  try {
    image = resizeRgb(await readRgb(entry.image), working.width, working.height);
  } catch (err) {
    throw invalid(entry, `cannot decode image ${entry.image} (${(err as Error).message})`, err);
  }
  if (!entry.mask) return { entry, image };
  let rgba: Uint8Array;
  try {
    rgba = (await readRgba(entry.mask, working)).rgba;
  } catch (err) {
    throw invalid(entry, `cannot decode mask ${entry.mask} (${(err as Error).message})`, err);
  }
  const lineClasses = entry.colorMap && entry.colorMap.length > 0 ? entry.colorMap : [];
  const local = decodeMask(rgba, lineClasses);
  // Re-index the line's classes to the model's class list.
  const mask = new Uint8Array(local.length);
  const remap = lineClasses.map((c) => 1 + Math.max(0, classes.findIndex((k) => k.name.toLowerCase() === c.name.toLowerCase())));
  for (let i = 0; i < local.length; i++) mask[i] = local[i] === 0 ? 0 : lineClasses.length === 0 ? 1 : remap[local[i]! - 1]!;
  return { entry, image, mask };
}
