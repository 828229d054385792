import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/image.js';
import { augmentations, ROTATIONS, rotate } from '../../../src/model-server/train/augment.js';

function pattern(w: number, h: number): RgbImage {
  const pixels = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    pixels[i * 3] = (i * 37) % 251;
    pixels[i * 3 + 1] = (i * 11) % 241;
    pixels[i * 3 + 2] = i % 199;
  }
  return { width: w, height: h, pixels };
}

const at = (img: RgbImage, x: number, y: number): number[] => Array.from(img.pixels.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe('training augmentations', () => {
  it('turns an image about its centre: a quarter turn moves every pixel exactly, a full turn changes nothing', () => {
    const img = pattern(9, 9);
    const quarter = rotate(img, Math.PI / 2);
    for (let y = 0; y < 9; y++) for (let x = 0; x < 9; x++) expect(at(quarter, x, y)).toEqual(at(img, y, 8 - x));
    expect(rotate(img, 2 * Math.PI).pixels).toEqual(img.pixels);
  });

  it('adds no copies with none, two mirrors with flip, and the mirrors plus the turned copies with rotate', () => {
    const img = pattern(16, 12);
    expect(augmentations(img, 'none')).toHaveLength(0);
    expect(augmentations(img, 'flip')).toHaveLength(2);
    const turned = augmentations(img, 'rotate');
    expect(turned).toHaveLength(2 + ROTATIONS);
    for (const t of turned) expect([t.width, t.height]).toEqual([16, 12]);
  });
});
