import type { Frame } from '../core/frame.js';
import type { RgbImage } from '../core/image.js';

export interface PreprocessedFrame extends RgbImage {
  /** Size of the decoded frame after EXIF orientation, before ROI and resize. */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
}

/**
 * Decoded, oriented, cropped and resized to the model's input, as packed RGB888.
 * Rejects with FRAME_CORRUPT, FRAME_TOO_LARGE or FRAME_INVALID_SIZE; never hangs on bad input.
 */
export interface Preprocessor {
  run(frame: Frame): Promise<PreprocessedFrame>;
}
