import type { ModelServerConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { EdgeAgentServer } from './edge-agent-server.js';
import { loadModelEntries } from './model-entries.js';
import type { ModelRuntime } from './runtime.js';

export interface ServeModelsDeps {
  readonly config: ModelServerConfig;
  readonly runtimes: Record<string, ModelRuntime>;
  readonly log: Logger;
  /** Aborted on SIGINT/SIGTERM by the caller; its reason becomes the stop reason. */
  readonly signal: AbortSignal;
}

/** `lookout-edge serve-model`: read the model directories, serve them until `signal`, shut down gracefully. */
export async function serveModels(deps: ServeModelsDeps): Promise<void> {
  const entries = await loadModelEntries(deps.config, deps.runtimes);
  if (entries.length === 0) deps.log.warn({ modelsDir: deps.config.modelsDir }, 'no models configured: serving an empty model list');
  const server = new EdgeAgentServer({ config: deps.config, entries, log: deps.log });
  await server.start();
  if (!deps.signal.aborted) await new Promise<void>((resolve) => deps.signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.stop(String(deps.signal.reason ?? 'signal'));
}
