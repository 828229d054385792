import type { DetectResult } from '../../src/core/model.js';
import type { ModelRuntime } from '../../src/model-server/runtime.js';

/**
 * A tiny real model for pipeline tests: a pixel is a defect when it is strongly red. The mask paints
 * those pixels in the class colour; the score is the defect fraction scaled so 0.1% of the image
 * reaches the threshold.
 */
export const redBlobRuntime: ModelRuntime = {
  kind: 'red-blob',
  async load(_dir, manifest) {
    const colour = manifest.classes[0]?.hexColor ?? '#FF00FF';
    const [cr, cg, cb] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];
    return {
      manifest,
      async infer(image, options): Promise<DetectResult> {
        const n = image.width * image.height;
        const mask = options.wantMask ? new Uint8Array(n * 3) : undefined;
        let red = 0;
        for (let i = 0; i < n; i++) {
          const p = i * 3;
          if (image.pixels[p]! > 180 && image.pixels[p + 1]! < 80 && image.pixels[p + 2]! < 80) {
            red += 1;
            if (mask) {
              mask[p] = cr;
              mask[p + 1] = cg;
              mask[p + 2] = cb;
            }
          }
        }
        const area = red / n;
        const score = Math.min(1, area * 500);
        const isAnomalous = score >= manifest.threshold;
        return {
          isAnomalous,
          confidence: isAnomalous ? score : 1 - score,
          anomalyScore: score,
          anomalyThreshold: manifest.threshold,
          anomalies: red > 0 ? [{ name: manifest.classes[0]?.name ?? 'anomaly', totalPercentageArea: area, hexColor: colour }] : [],
          ...(mask ? { mask: { width: image.width, height: image.height, pixels: mask } } : {}),
        };
      },
      async unload() {},
    };
  },
};
