import { isDeepStrictEqual } from 'node:util';
import { isLookoutError, toLookoutError } from '../core/errors.js';
import { type ConfigLayer, greengrassLayer, loadConfig } from './load.js';
import type { CameraConfig, Config } from './schema.js';

/**
 * Live configuration (Greengrass SubscribeToConfigurationUpdate): revalidate a candidate and say
 * exactly what changed, so the composition root restarts only the parts whose slice changed and
 * keeps the last good configuration when the candidate is bad. Pure: no I/O, nothing applied here.
 */

export type SliceName = keyof Config;

/** Top-level keys that the running process cannot take over without a restart. */
export const PROCESS_WIDE_SLICES: readonly SliceName[] = ['thingName'];

export interface CameraChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Present before and after with any difference in their settings. */
  readonly changed: readonly string[];
}

export type ConfigUpdatePlan =
  | {
      readonly ok: true;
      /** The new frozen configuration (the current one, unchanged, when nothing differs). */
      readonly config: Readonly<Config>;
      readonly changed: { readonly slices: readonly SliceName[]; readonly cameras: CameraChanges };
      /** True when a process-wide slice changed: apply by restarting the component. */
      readonly restartRequired: boolean;
    }
  | {
      readonly ok: false;
      /** Every problem as `path: message`; the current configuration stays in force. */
      readonly problems: readonly string[];
    };

export interface PlanOptions {
  /** Layers below the Greengrass one (environment), as at start-up. */
  readonly below?: readonly ConfigLayer[];
  /** Layers above the Greengrass one, lowest first (the local file, then CLI flags), as at start-up. */
  readonly above?: readonly ConfigLayer[];
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which cameras came, went or changed, by id; order alone is not a change. */
export function diffCameras(before: readonly CameraConfig[], after: readonly CameraConfig[]): CameraChanges {
  const prev = new Map(before.map((c) => [c.id, c]));
  const next = new Map(after.map((c) => [c.id, c]));
  return {
    added: [...next.keys()].filter((id) => !prev.has(id)),
    removed: [...prev.keys()].filter((id) => !next.has(id)),
    changed: [...next.keys()].filter((id) => prev.has(id) && !isDeepStrictEqual(prev.get(id), next.get(id))),
  };
}

/**
 * Validates `candidate` (the component configuration as Greengrass delivers it, `accessControl`
 * and all) layered exactly as at start-up, and compares it with `current`.
 */
export function planConfigUpdate(current: Readonly<Config>, candidate: unknown, options: PlanOptions = {}): ConfigUpdatePlan {
  if (!isPlain(candidate)) {
    return { ok: false, problems: ['(root): the component configuration must be an object'] };
  }
  let next: Readonly<Config>;
  try {
    next = loadConfig([...(options.below ?? []), greengrassLayer(candidate), ...(options.above ?? [])]);
  } catch (err) {
    if (isLookoutError(err, 'CONFIG_INVALID')) {
      const problems = err.details?.problems;
      return { ok: false, problems: Array.isArray(problems) ? problems.map(String) : [err.message] };
    }
    return { ok: false, problems: [`(root): ${toLookoutError(err).message}`] };
  }

  const cameras = diffCameras(current.cameras, next.cameras);
  const keys = new Set([...Object.keys(current), ...Object.keys(next)] as SliceName[]);
  const slices = [...keys].filter((key) => {
    if (key === 'cameras') return cameras.added.length + cameras.removed.length + cameras.changed.length > 0;
    return !isDeepStrictEqual(current[key], next[key]);
  });
  return {
    ok: true,
    config: slices.length === 0 ? current : next,
    changed: { slices, cameras },
    restartRequired: slices.some((s) => PROCESS_WIDE_SLICES.includes(s)),
  };
}
