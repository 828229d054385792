import { join } from 'node:path';
import { LookoutError } from '../../../core/errors.js';
import type { RgbImage } from '../../../core/image.js';
import type { DetectResult } from '../../../core/model.js';
import type { InferOptions, LoadedModel, ModelManifest, ModelRuntime } from '../../runtime.js';
import type { ExecutionProvider, FloatTensor, OnnxSession, OpenOnnxSession } from '../onnx-session.js';
import { resizeRgb } from '../builtin/resize.js';
import { paintMask, verdictConfidence } from '../mask-painter.js';
import { toNchw } from './image-tensor.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import { IMAGENET_MEAN, IMAGENET_STD, type OnnxParams, onnxParamsSchema, withMetadata } from './onnx-params.js';

/**
 * Runs anomaly models exported to ONNX (anomalib style): one image tensor in (NCHW float32 at the
 * manifest's input size), an anomaly map (4-D or 3-D output) and/or a score (scalar or 1-D) out.
 * Without a score output the score is the map's maximum; without a map there is no mask.
 */
export class OnnxRuntime implements ModelRuntime {
  readonly kind = 'onnx';

  constructor(private readonly deps: { readonly openSession: OpenOnnxSession; readonly executionProviders?: readonly ExecutionProvider[] }) {}

  async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const parsed = onnxParamsSchema.safeParse(manifest['onnx'] ?? {});
    if (!parsed.success) {
      throw new LookoutError('MODEL_MANIFEST_INVALID', `${join(dir, 'manifest.json')}: "onnx" section invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const file = join(dir, parsed.data.model);
    let meta: Record<string, string>;
    try {
      meta = await readOnnxMetadata(file);
    } catch (err) {
      throw new LookoutError('RUNTIME_LOAD_FAILED', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    const params = withMetadata(parsed.data, meta);
    const session = await this.deps.openSession(file, { executionProviders: params.executionProviders ?? this.deps.executionProviders ?? ['cpu'] });
    return new OnnxModel({ manifest, params, session });
  }
}

class OnnxModel implements LoadedModel {
  readonly manifest: ModelManifest;
  private readonly input: string;

  constructor(private readonly deps: { manifest: ModelManifest; params: OnnxParams; session: OnnxSession }) {
    this.manifest = deps.manifest;
    const input = deps.params.input ?? deps.session.inputNames[0];
    if (!input || !deps.session.inputNames.includes(input)) {
      throw new LookoutError('MODEL_MANIFEST_INVALID', `the ONNX graph has no input ${String(input)} (inputs: ${deps.session.inputNames.join(', ')})`);
    }
    this.input = input;
  }

  async infer(image: RgbImage, options: InferOptions): Promise<DetectResult> {
    const { manifest, params, session } = this.deps;
    const { width, height } = manifest.input;
    const tensor = toNchw(resizeRgb(image, width, height), params.mean ?? IMAGENET_MEAN, params.std ?? IMAGENET_STD);
    const out = await session.run({ [this.input]: { dims: [1, 3, height, width], data: tensor } });
    const { map, score: scoreTensor } = pickOutputs(out, params);
    if (!map && !scoreTensor) throw new LookoutError('RUNTIME_INFER_FAILED', `the ONNX graph gave neither an anomaly map nor a score (outputs: ${Object.keys(out).join(', ')})`);
    let raw = scoreTensor ? scoreTensor.data[0]! : -Infinity;
    if (!scoreTensor && map) for (const v of map.data) if (v > raw) raw = v;
    const n = params.normalization;
    const score = n ? minMax(raw, n.imageThreshold, n) : raw;
    const threshold = manifest.threshold;
    const confidence = n ? verdictConfidence(score, threshold) : 0.5 + 0.5 * Math.min(1, Math.abs(score - threshold) / Math.max(Math.abs(threshold), 1e-6));
    const base = { isAnomalous: score >= threshold, confidence, anomalyScore: score, anomalyThreshold: threshold };
    if (!options.wantMask || !map || manifest.classes.length === 0) return { ...base, anomalies: [] };
    const mh = map.dims[map.dims.length - 2]!;
    const mw = map.dims[map.dims.length - 1]!;
    const plane = map.data.subarray(0, mw * mh);
    let values = plane;
    let pixelThreshold = params.pixelThreshold ?? threshold;
    if (n) {
      const t = n.pixelThreshold ?? n.imageThreshold;
      values = plane.map((v) => minMax(v, t, n));
      pixelThreshold = threshold;
    }
    const painted = paintMask(values, mw, mh, image.width, image.height, pixelThreshold, manifest.classes);
    return { ...base, anomalies: painted.anomalies, mask: painted.mask };
  }

  async unload(): Promise<void> {
    await this.deps.session.close();
  }
}

function minMax(v: number, threshold: number, n: { min: number; max: number }): number {
  return Math.min(1, Math.max(0, (v - threshold) / (n.max - n.min) + 0.5));
}

/** By name when configured, else by rank: 3-D/4-D → map, 0-D/1-D (or N×1) → score. */
function pickOutputs(out: Record<string, FloatTensor>, params: OnnxParams): { map?: FloatTensor; score?: FloatTensor } {
  const named = (name: string | undefined): FloatTensor | undefined => {
    if (name === undefined) return undefined;
    const t = out[name];
    if (!t) throw new LookoutError('RUNTIME_INFER_FAILED', `the ONNX graph has no output ${name} (outputs: ${Object.keys(out).join(', ')})`);
    return t;
  };
  const values = Object.values(out);
  const map = named(params.outputs.map) ?? values.find((t) => t.dims.length >= 3);
  const score = named(params.outputs.score) ?? values.find((t) => t.data.length === 1 && t.dims.length <= 2);
  return { ...(map ? { map } : {}), ...(score ? { score } : {}) };
}
