import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/image.js';
import { alignmentWorthwhile, alignToReference, findPart, referenceProfile } from '../../../src/model-server/runtimes/builtin/align.js';
import { rotate } from '../../../src/model-server/train/augment.js';
import { mulberry } from '../../../src/model-server/train/coreset.js';
import { renderCastPart } from '../../../src/model-server/train/synthetic-cast.js';

function invert(img: RgbImage): RgbImage {
  return { ...img, pixels: img.pixels.map((v) => 255 - v) };
}

/** Mean absolute grey difference of two images over the central disc (the part, once aligned). */
function discDifference(a: RgbImage, b: RgbImage): number {
  const r = 0.35 * a.width;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (Math.hypot(x - a.width / 2, y - a.height / 2) > r) continue;
      for (let c = 0; c < 3; c++) sum += Math.abs(a.pixels[(y * a.width + x) * 3 + c]! - b.pixels[(y * a.width + x) * 3 + c]!);
      n += 3;
    }
  }
  return sum / n;
}

describe('round part alignment', () => {
  const part = renderCastPart(160, mulberry(5)).image;
  const reference = referenceProfile([part]);

  it('finds the angle of a turned part and brings it back onto the part', () => {
    const aligned = alignToReference(part, reference).image;
    for (const angle of [0.5, 1.9, 3.3, 5.0]) {
      const turned = alignToReference(rotate(part, angle), reference);
      expect(Math.abs(Math.cos(turned.angle) - Math.cos(angle)) + Math.abs(Math.sin(turned.angle) - Math.sin(angle))).toBeLessThan(0.1);
      // unaligned, a turned part differs from the part by far more than resampling blur
      expect(discDifference(turned.image, aligned)).toBeLessThan(0.5 * discDifference(rotate(part, angle), part));
    }
  });

  it('finds a dark part on a bright table as well as a bright part on a dark one', () => {
    const bright = findPart(part);
    const dark = findPart(invert(part));
    expect(Math.hypot(bright.cx - dark.cx, bright.cy - dark.cy)).toBeLessThan(3);
    expect(Math.abs(bright.radius - dark.radius) / bright.radius).toBeLessThan(0.1);
    expect(Math.hypot(bright.cx - 80, bright.cy - 80)).toBeLessThan(0.06 * 160);
  });

  it('is worth it for parts at varying angles, not for parts in one pose or a surface filling the frame', () => {
    const rand = mulberry(12);
    const parts = Array.from({ length: 12 }, () => renderCastPart(128, rand).image);
    expect(alignmentWorthwhile(parts, referenceProfile(parts)).align).toBe(true);
    const onePose = Array.from({ length: 12 }, () => parts[0]!);
    expect(alignmentWorthwhile(onePose, referenceProfile(onePose)).align).toBe(false);
    const noise = mulberry(3);
    const surfaces = Array.from({ length: 12 }, () => ({ width: 128, height: 128, pixels: Uint8Array.from({ length: 128 * 128 * 3 }, () => Math.floor(noise() * 256)) }));
    expect(alignmentWorthwhile(surfaces, referenceProfile(surfaces)).align).toBe(false);
  });
});
