import type { PreprocessConfig } from '../config/slices/preprocess.js';
import { SharpPreprocessor, configureSharp, type SharpSettings } from './adapters/sharp-preprocessor.js';
import type { Preprocessor } from './preprocessor.js';

/**
 * One preprocessor per camera (each camera has its own ROI and model size). The first call also
 * applies the process-wide sharp settings (cache off, `threads` libvips threads per image).
 */
export function createPreprocessor(config: PreprocessConfig, settings?: SharpSettings): Preprocessor {
  configureSharp(settings);
  return new SharpPreprocessor(config);
}
