import { isDeepStrictEqual } from 'node:util';
import type { Config, ModelServerConfig } from '../config/schema.js';

/** The modelServer keys a running server takes over live: which models it serves and where they are. */
export const LIVE_MODEL_KEYS = ['models', 'modelsDir', 'registryDir'] as const satisfies ReadonlyArray<keyof ModelServerConfig>;

export interface ModelServerChanges {
  /** The model list or where models are found changed: applied live. */
  readonly models: boolean;
  /** modelServer keys only a restart of serve-model takes over (socket, socketMode, queueSize…). */
  readonly restartKeys: readonly string[];
  /** The status slice (health endpoint) changed: the endpoint is reopened. */
  readonly status: boolean;
  readonly logLevel: boolean;
}

/** What a configuration update means for serve-model. Slices of the inspector (cameras, inference…) do not concern it. Pure. */
export function modelServerChanges(current: Readonly<Config>, next: Readonly<Config>): ModelServerChanges {
  const live = new Set<string>(LIVE_MODEL_KEYS);
  const keys = new Set([...Object.keys(current.modelServer), ...Object.keys(next.modelServer)]) as Set<keyof ModelServerConfig>;
  const changed = [...keys].filter((k) => !isDeepStrictEqual(current.modelServer[k], next.modelServer[k]));
  return {
    models: changed.some((k) => live.has(k)),
    restartKeys: changed.filter((k) => !live.has(k)).map((k) => `modelServer.${k}`),
    status: !isDeepStrictEqual(current.status, next.status),
    logLevel: current.logging.level !== next.logging.level,
  };
}

/** `next`, except the modelServer keys that need a restart keep the values the server runs with. */
export function withRunningModelServer(running: Readonly<Config>, next: Readonly<Config>): Readonly<Config> {
  const modelServer = { ...running.modelServer };
  for (const key of LIVE_MODEL_KEYS) (modelServer as Record<string, unknown>)[key] = next.modelServer[key];
  return Object.freeze({ ...next, modelServer: Object.freeze(modelServer) as ModelServerConfig });
}

/** True when one of these configuration layers' values has a `status` section. */
export function hasStatusSection(layers: readonly unknown[]): boolean {
  return layers.some((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && 'status' in v);
}
