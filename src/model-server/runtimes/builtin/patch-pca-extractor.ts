import type { RgbImage } from '../../../core/image.js';
import type { FeatureMap } from './feature-map.js';
import type { PatchPcaBasis, PatchPcaSpec } from './patch-pca.js';
import { type PreparedBasis, prepareBasis, projectPatches } from './patch-projection.js';
import type { FeatureExtractor } from './scorer.js';

export class PatchPcaExtractor implements FeatureExtractor {
  private readonly prepared: PreparedBasis;

  constructor(deps: { readonly spec: PatchPcaSpec; readonly basis: PatchPcaBasis }) {
    this.prepared = prepareBasis(deps.spec, deps.basis);
  }

  extract(img: RgbImage): FeatureMap {
    return projectPatches(img, this.prepared);
  }
}

/** Tensor names of a basis in the weights file. */
export function basisTensors(basis: PatchPcaBasis): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  basis.means.forEach((m, l) => out.set(`pca.mean.${l}`, m));
  basis.bases.forEach((b, l) => out.set(`pca.basis.${l}`, b));
  return out;
}

export function basisFromTensors(tensors: ReadonlyMap<string, Float32Array>, levels: number): PatchPcaBasis {
  const means: Float32Array[] = [];
  const bases: Float32Array[] = [];
  for (let l = 0; l < levels; l++) {
    const m = tensors.get(`pca.mean.${l}`);
    const b = tensors.get(`pca.basis.${l}`);
    if (!m || !b) throw new Error(`weights lack the patch basis of level ${l}`);
    means.push(m);
    bases.push(b);
  }
  return { means, bases };
}
