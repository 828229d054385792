import type { ModelRuntime } from '../runtime.js';
import { noopRuntime } from './noop.js';

export { readManifest } from '../model-entries.js';

/** Every runtime the server can load, by manifest `runtime` name. */
export const RUNTIMES: Record<string, ModelRuntime> = {
  noop: noopRuntime,
};
