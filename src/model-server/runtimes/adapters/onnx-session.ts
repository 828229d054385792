import type * as Ort from 'onnxruntime-node';
import { LookoutError } from '../../../core/errors.js';
import type { FloatTensor, OnnxSession, OnnxSessionOptions } from '../onnx-session.js';

export type { ExecutionProvider, FloatTensor, OnnxSession, OnnxSessionOptions } from '../onnx-session.js';

/**
 * onnxruntime-node is loaded on the first session, not with this module: the native runtime costs a
 * process ~15 MB of RSS, and most processes that import the runtimes (the inspector's CLI, a model
 * server with only built-in models) never open an ONNX graph.
 */
let loading: Promise<typeof Ort> | undefined;
function onnxruntime(): Promise<typeof Ort> {
  loading ??= import('onnxruntime-node');
  return loading;
}

/**
 * The only module that touches onnxruntime-node: open a model file, run float32 tensors through it.
 * Errors become RUNTIME_LOAD_FAILED / RUNTIME_INFER_FAILED.
 */
export async function openOnnxSession(path: string, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  let session: Ort.InferenceSession;
  let ort: typeof Ort;
  try {
    ort = await onnxruntime();
    session = await ort.InferenceSession.create(path, {
      executionProviders: [...(options.executionProviders ?? ['cpu'])],
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new LookoutError('RUNTIME_LOAD_FAILED', `onnxruntime cannot load ${path}: ${(err as Error).message}`, { cause: err });
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const inputs: Record<string, Ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', t.data, [...t.dims]);
      let results: Ort.InferenceSession.ReturnType;
      try {
        results = await session.run(inputs);
      } catch (err) {
        throw new LookoutError('RUNTIME_INFER_FAILED', `onnxruntime failed: ${(err as Error).message}`, { cause: err });
      }
      const out: Record<string, FloatTensor> = {};
      for (const [name, t] of Object.entries(results)) {
        if (t.type !== 'float32') throw new LookoutError('RUNTIME_INFER_FAILED', `output ${name} is ${t.type}, expected float32`);
        out[name] = { dims: t.dims, data: t.data as Float32Array };
      }
      return out;
    },
    async close() {
      await session.release();
    },
  };
}
