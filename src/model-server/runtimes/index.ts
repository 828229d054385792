import type { ModelRuntime } from '../runtime.js';
import type { ExecutionProvider } from './adapters/onnx-session.js';
import { BuiltinRuntime } from './builtin/builtin-runtime.js';
import { noopRuntime } from './noop.js';
import { OnnxRuntime } from './onnx/onnx-runtime.js';

export { readManifest, modelManifestSchema } from './manifest.js';
export { BuiltinRuntime } from './builtin/builtin-runtime.js';
export { OnnxRuntime } from './onnx/onnx-runtime.js';
export type { ExecutionProvider } from './adapters/onnx-session.js';

/** Runtimes by manifest `runtime` name. Use `new OnnxRuntime({ executionProviders })` for other providers. */
export const RUNTIMES: Record<string, ModelRuntime> = {
  builtin: new BuiltinRuntime(),
  onnx: new OnnxRuntime(),
  noop: noopRuntime,
};

/** RUNTIMES with the ONNX runtime on the given execution providers (modelServer.executionProviders). */
export function runtimesFor(executionProviders: readonly ExecutionProvider[]): Record<string, ModelRuntime> {
  return { ...RUNTIMES, onnx: new OnnxRuntime({ executionProviders }) };
}
