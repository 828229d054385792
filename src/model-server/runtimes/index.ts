import type { ModelRuntime } from '../runtime.js';
import { openOnnxSession } from './adapters/onnx-session.js';
import { BuiltinRuntime } from './builtin/builtin-runtime.js';
import { noopRuntime } from './noop.js';
import { OnnxRuntime } from './onnx/onnx-runtime.js';
import type { ExecutionProvider } from './onnx-session.js';

export { readManifest, modelManifestSchema } from './manifest.js';
export { BuiltinRuntime } from './builtin/builtin-runtime.js';
export { OnnxRuntime } from './onnx/onnx-runtime.js';
export type { ExecutionProvider } from './onnx-session.js';

/**
 * Runtimes by manifest `runtime` name, each built with its adapter (this file is where they are composed).
 * Use runtimesFor for other execution providers.
 */
export const RUNTIMES: Record<string, ModelRuntime> = {
  builtin: new BuiltinRuntime({ openSession: openOnnxSession }),
  onnx: new OnnxRuntime({ openSession: openOnnxSession }),
  noop: noopRuntime,
};

/** RUNTIMES with the ONNX runtime on the given execution providers (modelServer.executionProviders). */
export function runtimesFor(executionProviders: readonly ExecutionProvider[]): Record<string, ModelRuntime> {
  return { ...RUNTIMES, onnx: new OnnxRuntime({ openSession: openOnnxSession, executionProviders }) };
}
