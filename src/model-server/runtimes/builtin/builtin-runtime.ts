import { join } from 'node:path';
import { LookoutError } from '../../../core/errors.js';
import type { RgbImage } from '../../../core/image.js';
import type { DetectResult } from '../../../core/model.js';
import type { InferOptions, LoadedModel, ModelManifest, ModelRuntime } from '../../runtime.js';
import type { AnomalyMapSource } from '../anomaly-map-capable.js';
import { paintMask, verdictConfidence } from '../mask-painter.js';
import { ANGLES, RINGS } from './align.js';
import type { MemoryIndex } from './nearest.js';
import type { OpenOnnxSession } from '../onnx-session.js';
import { OnnxFeatureExtractor } from './onnx-feature-extractor.js';
import { type BuiltinParams, builtinParamsSchema } from './params.js';
import { basisFromTensors, PatchPcaExtractor } from './patch-pca-extractor.js';
import { type FeatureExtractor, normaliseScore, Scorer } from './scorer.js';
import { readTensors } from './weights-file.js';

/** The model `lookout-edge train` writes: a memory bank of normal patches and its calibration. */
export class BuiltinRuntime implements ModelRuntime {
  readonly kind = 'builtin';

  /** `openSession` opens a manifest's ONNX feature extractor (runtimes/index.ts passes onnxruntime's). */
  constructor(private readonly deps: { readonly openSession: OpenOnnxSession }) {}

  async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const parsed = builtinParamsSchema.safeParse(manifest['builtin']);
    if (!parsed.success) {
      throw new LookoutError('MODEL_MANIFEST_INVALID', `${join(dir, 'manifest.json')}: "builtin" section invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const params = parsed.data;
    let tensors: Map<string, Float32Array>;
    try {
      tensors = await readTensors(join(dir, params.weights), params.tensors);
    } catch (err) {
      throw new LookoutError('RUNTIME_LOAD_FAILED', `cannot read the weights of ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const need = (name: string): Float32Array => {
      const t = tensors.get(name);
      if (!t) throw new LookoutError('RUNTIME_LOAD_FAILED', `${dir}: weights lack tensor ${name}`);
      return t;
    };
    const mean = need('feat.mean');
    const dim = mean.length;
    const index: MemoryIndex = {
      dim,
      bank: need('index.bank'),
      centroids: need('index.centroids'),
      offsets: Uint32Array.from(need('index.offsets')),
      probes: params.index.probes,
    };
    let extractor: FeatureExtractor;
    const f = params.features;
    if (f.kind === 'patch-pca') {
      try {
        extractor = new PatchPcaExtractor({ spec: f, basis: basisFromTensors(tensors, f.levels) });
      } catch (err) {
        throw new LookoutError('RUNTIME_LOAD_FAILED', `${dir}: ${(err as Error).message}`, { cause: err });
      }
    } else {
      extractor = await OnnxFeatureExtractor.open(join(dir, f.file), f, this.deps.openSession);
    }
    if (params.mapWeights && dim % params.mapWeights.length !== 0) throw new LookoutError('MODEL_MANIFEST_INVALID', `${dir}: builtin.mapWeights has ${params.mapWeights.length} weights, which do not divide the ${dim} feature dimensions`);
    const alignReference = params.align ? need('align.profile') : undefined;
    if (alignReference && alignReference.length !== ANGLES * RINGS) throw new LookoutError('RUNTIME_LOAD_FAILED', `${dir}: tensor align.profile has ${alignReference.length} values, expected ${ANGLES * RINGS}`);
    const scorer = new Scorer({ params, extractor, mean, std: need('feat.std'), index, ...(alignReference ? { alignReference } : {}) });
    return new BuiltinModel({ manifest, params, scorer, extractor });
  }
}

class BuiltinModel implements LoadedModel, AnomalyMapSource {
  readonly manifest: ModelManifest;

  constructor(private readonly deps: { manifest: ModelManifest; params: BuiltinParams; scorer: Scorer; extractor: FeatureExtractor }) {
    this.manifest = deps.manifest;
  }

  async infer(image: RgbImage, options: InferOptions): Promise<DetectResult> {
    const { params, scorer, manifest } = this.deps;
    let r;
    try {
      r = await scorer.score(image);
    } catch (err) {
      throw new LookoutError('RUNTIME_INFER_FAILED', `built-in model failed: ${(err as Error).message}`, { cause: err });
    }
    const { rawThreshold, scale, pixelThreshold } = params.calibration;
    const score = normaliseScore(r.score, rawThreshold, scale);
    const threshold = manifest.threshold;
    const base = { isAnomalous: score >= threshold, confidence: verdictConfidence(score, threshold), anomalyScore: score, anomalyThreshold: threshold };
    if (!options.wantMask || manifest.classes.length === 0) return { ...base, anomalies: [] };
    const painted = paintMask(r.map, r.width, r.height, image.width, image.height, pixelThreshold, manifest.classes);
    return { ...base, anomalies: painted.anomalies, mask: painted.mask };
  }

  async anomalyMap(image: RgbImage): Promise<{ map: Float32Array; width: number; height: number }> {
    const r = await this.deps.scorer.score(image);
    return { map: r.map, width: r.width, height: r.height };
  }

  async unload(): Promise<void> {
    await this.deps.extractor.close?.();
  }
}
