import { resolve } from 'node:path';
import { withDeadline } from '../core/deadline.js';
import { LookoutError, toLookoutError } from '../core/errors.js';
import type { DetectResult } from '../core/model.js';
import { readManifest } from './model-entries.js';
import type { LoadedModel, ModelManifest, ModelRuntime } from './runtime.js';

export interface VerifyResult {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly loadMs: number;
  readonly inferMs: number;
  readonly result: DetectResult;
}

function problem(code: 'MODEL_MANIFEST_INVALID' | 'RUNTIME_LOAD_FAILED' | 'RUNTIME_INFER_FAILED', message: string, cause?: unknown): LookoutError {
  return new LookoutError(code, message, cause === undefined ? {} : { cause });
}

function checkResult(r: DetectResult, width: number, height: number): string | undefined {
  if (typeof r.isAnomalous !== 'boolean') return 'is_anomalous is not a boolean';
  if (!(r.confidence >= 0 && r.confidence <= 1)) return `confidence ${r.confidence} is outside [0,1]`;
  if (r.anomalyScore !== undefined && !(r.anomalyScore >= 0 && r.anomalyScore <= 1)) return `anomaly score ${r.anomalyScore} is outside [0,1]`;
  if (r.mask && (r.mask.width !== width || r.mask.height !== height || r.mask.pixels.length !== width * height * 3)) {
    return `mask is ${r.mask.width}x${r.mask.height} for a ${width}x${height} image`;
  }
  return undefined;
}

/**
 * Proves a model directory serves: manifest valid, runtime known, the model loads with the runtime the
 * server would use, and one inference on a blank image of the model's input size gives a well-formed
 * answer (with a mask when the model has classes). The model is unloaded again. Errors:
 * MODEL_MANIFEST_INVALID, RUNTIME_LOAD_FAILED, RUNTIME_INFER_FAILED (also past `timeoutMs`).
 */
export async function verifyModel(dirArg: string, runtimes: Record<string, ModelRuntime>, timeoutMs = 120_000): Promise<VerifyResult> {
  const dir = resolve(dirArg);
  const manifest = await readManifest(dir);
  const runtime = runtimes[manifest.runtime];
  if (!runtime) throw problem('MODEL_MANIFEST_INVALID', `${dir}: unknown runtime "${manifest.runtime}" (known: ${Object.keys(runtimes).join(', ')})`);
  const loadStarted = performance.now();
  let model: LoadedModel;
  try {
    model = await withDeadline(runtime.load(dir, manifest), timeoutMs, `loading ${dir}`, 'RUNTIME_LOAD_FAILED');
  } catch (err) {
    throw problem('RUNTIME_LOAD_FAILED', `${dir} does not load with the ${manifest.runtime} runtime: ${toLookoutError(err).message}`, err);
  }
  const loadMs = performance.now() - loadStarted;
  try {
    const { width, height } = manifest.input;
    const image = { width, height, pixels: new Uint8Array(width * height * 3) };
    const inferStarted = performance.now();
    let result: DetectResult;
    try {
      result = await withDeadline(model.infer(image, { wantMask: manifest.classes.length > 0 }), timeoutMs, `inference with ${dir}`, 'RUNTIME_INFER_FAILED');
    } catch (err) {
      throw problem('RUNTIME_INFER_FAILED', `${dir} loads but fails on a blank ${width}x${height} image: ${toLookoutError(err).message}`, err);
    }
    const inferMs = performance.now() - inferStarted;
    const wrong = checkResult(result, width, height);
    if (wrong) throw problem('RUNTIME_INFER_FAILED', `${dir} answers a blank ${width}x${height} image wrongly: ${wrong}`);
    return { dir, manifest, loadMs, inferMs, result };
  } finally {
    await model.unload().catch(() => undefined);
  }
}

/** One line for a person or a deployment log. */
export function verifySummary(v: VerifyResult): string {
  const m = v.manifest;
  const classes = m.classes.length === 0 ? 'classification' : `${m.classes.length} classes`;
  const score = v.result.anomalyScore === undefined ? '' : `score ${v.result.anomalyScore.toFixed(3)}, `;
  return `model ok: ${m.name} ${m.version} (${m.runtime}, ${m.input.width}x${m.input.height}, ${classes}) at ${v.dir}: loaded in ${Math.round(v.loadMs)} ms, blank image in ${Math.round(v.inferMs)} ms (${score}${v.result.isAnomalous ? 'anomalous' : 'normal'})`;
}
