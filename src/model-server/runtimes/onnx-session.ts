/**
 * The port ONNX models run through: open a model file as a session that runs float32 tensors. Errors are
 * RUNTIME_LOAD_FAILED / RUNTIME_INFER_FAILED. The adapter (onnxruntime-node) is adapters/onnx-session.ts.
 */
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

export interface FloatTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, FloatTensor>>): Promise<Record<string, FloatTensor>>;
  close(): Promise<void>;
}

export interface OnnxSessionOptions {
  readonly executionProviders?: readonly ExecutionProvider[];
  /** Threads for one inference (default 1: the server parallelises across requests). */
  readonly intraOpThreads?: number;
}

export type OpenOnnxSession = (path: string, options?: OnnxSessionOptions) => Promise<OnnxSession>;
