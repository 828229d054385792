import { describe, expect, it } from 'vitest';
import { evenLight, TARGET_MEAN } from '../../../src/model-server/runtimes/builtin/light.js';
import { builtinParamsSchema } from '../../../src/model-server/runtimes/builtin/params.js';
import { mulberry } from '../../../src/model-server/train/coreset.js';
import { renderCastPart } from '../../../src/model-server/train/synthetic-cast.js';

describe('even light', () => {
  it('gives the same part under dimmer or brighter light nearly the same pixels', () => {
    const part = renderCastPart(96, mulberry(3)).image;
    const scaled = (g: number) => ({ ...part, pixels: part.pixels.map((v) => Math.min(255, Math.round(v * g))) });
    const base = evenLight(part);
    for (const g of [0.7, 1.2]) {
      const other = evenLight(scaled(g));
      let diff = 0;
      for (let i = 0; i < base.pixels.length; i++) diff += Math.abs(base.pixels[i]! - other.pixels[i]!);
      expect(diff / base.pixels.length).toBeLessThan(1.5);
    }
    const mean = base.pixels.reduce((a, v) => a + v, 0) / base.pixels.length;
    expect(Math.abs(mean - TARGET_MEAN)).toBeLessThan(2);
  });

  it('is off for models whose manifest predates it', () => {
    const params = builtinParamsSchema.parse({
      working: { width: 64, height: 64 },
      features: { kind: 'patch-pca', stride: 4, size: 7, levels: 2, components: 4 },
      sigma: 1,
      topFraction: 0.02,
      index: { probes: 3 },
      calibration: { rawThreshold: 1, scale: 0.1, pixelThreshold: 1 },
      weights: 'weights.bin',
      tensors: [],
    });
    expect(params.evenLight).toBeUndefined();
  });
});
