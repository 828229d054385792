import { describe, expect, it } from 'vitest';
import { mulberry } from '../../../src/model-server/train/coreset.js';
import { CAST_DEFECT_CLASSES, renderCastPart } from '../../../src/model-server/train/synthetic-cast.js';

/** The cast-parts proxy must stay hard in the way the real set is: small defects, parts at any angle. */
describe('synthetic cast parts', () => {
  it('draws every defect kind small (0.1–2 % of the part) and marks it in the mask with its class', () => {
    const size = 200;
    const partArea = Math.PI * (0.4 * size) ** 2;
    const rand = mulberry(4);
    for (let n = 0; n < 20; n++) {
      const kind = n % CAST_DEFECT_CLASSES.length;
      const part = renderCastPart(size, rand, kind);
      const pixels = part.mask.reduce((a, c) => a + (c === kind + 1 ? 1 : 0), 0);
      expect(part.defect).toEqual(CAST_DEFECT_CLASSES[kind]);
      expect(pixels / partArea).toBeGreaterThan(0.001);
      expect(pixels / partArea).toBeLessThan(0.02);
      expect(part.mask.every((c) => c === 0 || c === kind + 1)).toBe(true);
    }
  });

  it('draws normal parts at different rotations, with no defect in the mask', () => {
    const rand = mulberry(9);
    const a = renderCastPart(128, rand);
    const b = renderCastPart(128, rand);
    expect(a.defect).toBeUndefined();
    expect(a.mask.every((c) => c === 0)).toBe(true);
    let differ = 0;
    for (let i = 0; i < a.image.pixels.length; i++) if (Math.abs(a.image.pixels[i]! - b.image.pixels[i]!) > 40) differ++;
    expect(differ / a.image.pixels.length).toBeGreaterThan(0.02);
  });
});
