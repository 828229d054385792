import type { DetectResult } from '../../core/model.js';
import type { LoadedModel, ModelManifest, ModelRuntime } from '../runtime.js';

/**
 * Zero-cost runtime: every image is normal (score 0, confidence 1); when asked for a mask, a blank
 * (all black) one at the image's size. For benchmarks of the transport and the demo's zero-cost mode.
 */
export const noopRuntime: ModelRuntime = {
  kind: 'noop',
  async load(_dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    // The last blank mask, reused while the size stays the same (nobody writes into a result's mask).
    let blank: Uint8Array = new Uint8Array(0);
    return {
      manifest,
      async infer(image, options): Promise<DetectResult> {
        const base = { isAnomalous: false, confidence: 1, anomalyScore: 0, anomalyThreshold: manifest.threshold, anomalies: [] };
        if (!options.wantMask || manifest.classes.length === 0) return base;
        const length = image.width * image.height * 3;
        if (blank.length !== length) blank = new Uint8Array(length);
        return { ...base, mask: { width: image.width, height: image.height, pixels: blank } };
      },
      async unload(): Promise<void> {},
    };
  },
};
