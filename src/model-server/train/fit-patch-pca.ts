import type { RgbImage } from '../../core/image.js';
import { type PatchPcaBasis, type PatchPcaSpec, gridSize, levelCentre, pyramid, readPatch } from '../runtimes/builtin/patch-pca.js';
import { topEigenvectors } from '../runtimes/builtin/eigen.js';
import { mulberry } from './coreset.js';

/** Fits the per-level patch PCA bases on (a sample of) the normal training patches. */
export function fitPatchPca(images: readonly RgbImage[], spec: PatchPcaSpec, samplesPerImage = 400, seed = 7): PatchPcaBasis {
  const n = spec.size * spec.size * 3;
  const rand = mulberry(seed);
  const pyramids = images.map((img) => pyramid(img, spec.levels));
  const means: Float32Array[] = [];
  const bases: Float32Array[] = [];
  const patch = new Float32Array(n);
  for (let l = 0; l < spec.levels; l++) {
    const sum = new Float64Array(n);
    const cov = new Float64Array(n * n);
    let count = 0;
    for (let i = 0; i < images.length; i++) {
      const { gw, gh } = gridSize(images[i]!, spec.stride);
      const im = pyramids[i]![l]!;
      for (let s = 0; s < samplesPerImage; s++) {
        const gx = Math.floor(rand() * gw);
        const gy = Math.floor(rand() * gh);
        readPatch(im, levelCentre(gx, spec.stride, l, im.width), levelCentre(gy, spec.stride, l, im.height), spec.size, patch);
        for (let a = 0; a < n; a++) {
          const pa = patch[a]!;
          sum[a]! += pa;
          const row = a * n;
          for (let b = a; b < n; b++) cov[row + b]! += pa * patch[b]!;
        }
        count++;
      }
    }
    const mean = new Float32Array(n);
    for (let a = 0; a < n; a++) mean[a] = sum[a]! / count;
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        const c = cov[a * n + b]! / count - mean[a]! * mean[b]!;
        cov[a * n + b] = c;
        cov[b * n + a] = c;
      }
    }
    means.push(mean);
    bases.push(topEigenvectors(cov, n, spec.components).vectors);
  }
  return { means, bases };
}
