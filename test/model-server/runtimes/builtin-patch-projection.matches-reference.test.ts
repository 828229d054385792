import { describe, expect, it } from 'vitest';
import { prepareBasis, projectPatches } from '../../../src/model-server/runtimes/builtin/patch-projection.js';
import { gridSize, levelCentre, pyramid, readPatch, type PatchPcaSpec } from '../../../src/model-server/runtimes/builtin/patch-pca.js';
import { mulberry } from '../../../src/model-server/train/coreset.js';

/** feature = b_c · (patch − mean) per level and grid cell, straight from the definition. */
function reference(img: { width: number; height: number; pixels: Uint8Array }, spec: PatchPcaSpec, means: Float32Array[], bases: Float32Array[]): Float32Array {
  const levels = pyramid(img, spec.levels);
  const { gw, gh } = gridSize(img, spec.stride);
  const n = spec.size * spec.size * 3;
  const dim = spec.components * spec.levels;
  const out = new Float32Array(gw * gh * dim);
  const patch = new Float32Array(n);
  for (let l = 0; l < spec.levels; l++) {
    const im = levels[l]!;
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        readPatch(im, levelCentre(gx, spec.stride, l, im.width), levelCentre(gy, spec.stride, l, im.height), spec.size, patch);
        for (let c = 0; c < spec.components; c++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += bases[l]![c * n + i]! * (patch[i]! - means[l]![i]!);
          out[(gy * gw + gx) * dim + l * spec.components + c] = s;
        }
      }
    }
  }
  return out;
}

/** Eigen-patch descriptors (batched per level in the kernels, distinct centres once) against the definition. */
describe('built-in patch projection', () => {
  // Odd sides: the pyramid resizes rather than halves, and border patches are clamped.
  const spec: PatchPcaSpec = { stride: 4, size: 7, levels: 4, components: 10 };
  const r = mulberry(5);
  const img = { width: 70, height: 45, pixels: Uint8Array.from({ length: 70 * 45 * 3 }, () => Math.floor(r() * 256)) };
  const n = spec.size * spec.size * 3;
  const means = Array.from({ length: spec.levels }, () => Float32Array.from({ length: n }, () => r()));
  const bases = Array.from({ length: spec.levels }, () => Float32Array.from({ length: spec.components * n }, () => (r() - 0.5) * 0.2));
  const want = reference(img, spec, means, bases);

  for (const kernels of ['simd', 'js'] as const) {
    it(`equals b · (patch − mean) at every cell and level to float rounding (${kernels} kernels)`, () => {
      const prepared = prepareBasis(spec, { means, bases }, kernels);
      expect(prepared.kernels.simd).toBe(kernels === 'simd');
      for (let frame = 0; frame < 2; frame++) {
        const got = projectPatches(img, prepared);
        expect(got.data.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got.data[i]! - want[i]!)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(want[i]!)));
      }
    });
  }
});
