import { resolve } from 'node:path';
import type { ModelServerConfig } from '../config/schema.js';
import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { entryFor, type ModelEntry, loadModelEntries, readManifest } from './model-entries.js';
import type { RegistryLookup } from './registry/registry-file.js';
import { RegistryWatcher } from './registry/registry-watcher.js';
import type { ModelRuntime } from './runtime.js';

/**
 * A configured model the registry has not located yet (its file is missing or unusable). It is not
 * served: ListModels leaves it out and DescribeModel/StartModel/DetectAnomalies answer NOT_FOUND, which is
 * what AWS's Edge Agent answers for a model component whose deployment has not reached the device yet, so
 * Lookout for Vision clients already treat it as "not deployed (yet)". A made-up state would mislead them:
 * STOPPED invites a StartModel that cannot succeed, and STARTING could last for as long as the deployment
 * takes. The wait shows on /readyz (as a reason) and /metrics (state WAITING) instead.
 */
export interface WaitingModel {
  readonly component: string;
  readonly startOnBoot: boolean;
  readonly reason: string;
}

export interface ResolvedModels {
  /** What the server should serve now. */
  readonly entries: readonly ModelEntry[];
  /** Configured but not served: waiting for their registry file. */
  readonly waiting: readonly WaitingModel[];
}

export interface ModelSourcesDeps {
  readonly runtimes: Record<string, ModelRuntime>;
  readonly log: Logger;
  /** A registry file changed what should be served; read current(). */
  readonly onChange: () => void;
  readonly rescanMs?: number;
}

interface RegistryState {
  lookup?: RegistryLookup;
  /** The last entry the registry resolved to; kept while the file is later missing or broken. */
  entry?: ModelEntry;
  /** Why the current file is not used (missing, invalid, manifest unreadable). */
  problem?: string;
}

/**
 * Where each configured model comes from: fixed directories (modelsDir, models[].path; manifests read up
 * front, a bad one rejects the configuration) or the model registry (models[] without path: located
 * through `<registryDir>/<component>.json` as soon as it appears, reloaded when its version changes;
 * a bad file is an error for that model only, and a model already served keeps its last good version).
 */
export class ModelSources {
  private config: ModelServerConfig | undefined;
  private fixed: ModelEntry[] = [];
  private registryModels: Array<{ component: string; startOnBoot: boolean }> = [];
  private readonly registry = new Map<string, RegistryState>();
  private watcher: RegistryWatcher | undefined;
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ModelSourcesDeps) {}

  /**
   * Takes over a validated configuration. Throws (and changes nothing) when a fixed model directory is
   * unusable. Resolves once registry files already present have been read.
   */
  async configure(config: ModelServerConfig): Promise<void> {
    const fixed = await loadModelEntries(config, this.deps.runtimes);
    this.config = config;
    this.fixed = fixed;
    this.registryModels = config.models.filter((m) => m.path === undefined).map((m) => ({ component: m.component, startOnBoot: m.startOnBoot }));
    const dir = config.registryDir === undefined ? undefined : resolve(config.registryDir);
    if (this.watcher && this.watcher.dir !== dir) {
      this.watcher.stop();
      this.watcher = undefined;
      this.registry.clear();
    }
    if (dir !== undefined && this.registryModels.length > 0 && !this.watcher) {
      this.watcher = new RegistryWatcher({ dir, log: this.deps.log, ...(this.deps.rescanMs ? { rescanMs: this.deps.rescanMs } : {}), onChange: (c, l) => this.onLookup(c, l) });
      this.watcher.start();
    }
    const names = new Set(this.registryModels.map((m) => m.component));
    for (const component of [...this.registry.keys()]) if (!names.has(component)) this.registry.delete(component);
    await this.watcher?.track(names);
    await this.work;
  }

  current(): ResolvedModels {
    const entries = [...this.fixed];
    const waiting: WaitingModel[] = [];
    for (const { component, startOnBoot } of this.registryModels) {
      const state = this.registry.get(component);
      if (state?.entry) entries.push({ ...state.entry, startOnBoot });
      else waiting.push({ component, startOnBoot, reason: state?.problem ?? `waiting for the model registry (${this.config?.registryDir ?? '?'})` });
    }
    return { entries, waiting };
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  private onLookup(component: string, lookup: RegistryLookup): void {
    this.work = this.work.then(async () => {
      if (!this.registryModels.some((m) => m.component === component)) return;
      const state = this.registry.get(component) ?? {};
      this.registry.set(component, state);
      state.lookup = lookup;
      await this.resolveLookup(component, state, lookup);
      this.deps.onChange();
    });
  }

  private async resolveLookup(component: string, state: RegistryState, lookup: RegistryLookup): Promise<void> {
    const { log, runtimes } = this.deps;
    const kept = state.entry ? { servedVersion: state.entry.version } : {};
    if (lookup.kind === 'missing') {
      state.problem = `waiting for ${lookup.file}`;
      if (state.entry) log.warn({ component, file: lookup.file, ...kept }, 'model registry file gone; the model keeps its last version');
      else log.info({ component, file: lookup.file }, 'model waits for its registry file');
      return;
    }
    if (lookup.kind === 'invalid') {
      state.problem = lookup.error.message;
      log.error({ component, file: lookup.file, err: lookup.error.toJSON(), ...kept }, 'model registry file unusable');
      return;
    }
    const { path, version } = lookup.record;
    try {
      const startOnBoot = this.registryModels.find((m) => m.component === component)?.startOnBoot ?? true;
      state.entry = entryFor(component, path, await readManifest(path), runtimes, startOnBoot, version);
      state.problem = undefined;
      log.info({ component, version, path }, 'model located through the registry');
    } catch (err) {
      state.problem = toLookoutError(err).message;
      log.error({ component, file: lookup.file, err: toLookoutError(err).toJSON(), ...kept }, 'model named by the registry cannot be used');
    }
  }
}
