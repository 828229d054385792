import { LookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { type ModelInfo, ModelStatus } from '../core/model.js';
import { type ModelEntry, readManifest } from './model-entries.js';
import type { LoadedModel } from './runtime.js';

export interface ModelLease {
  readonly model: LoadedModel;
  release(): void;
}

export interface ModelSlotDeps {
  readonly entry: ModelEntry;
  readonly log: Logger;
}

/**
 * One served model and its Edge Agent state machine:
 *
 *   STOPPED/FAILED --start()--> STARTING --load ok--> RUNNING --stop()--> STOPPING --> STOPPED
 *                                        --load fails--> FAILED
 *                                                        RUNNING --an inference hangs--> FAILED
 *
 * start() is asynchronous (answers STARTING, loads in the background); stop() is synchronous: it waits
 * for inferences already running on the model, then unloads it. Wrong states are MODEL_NOT_RUNNING
 * (FAILED_PRECONDITION on the wire).
 */
export class ModelSlot {
  private status = ModelStatus.STOPPED;
  private statusMessage = 'stopped';
  private loaded: LoadedModel | undefined;
  private loading: Promise<void> | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private currentEntry: ModelEntry;

  constructor(private readonly deps: ModelSlotDeps) {
    this.currentEntry = deps.entry;
  }

  get component(): string {
    return this.currentEntry.component;
  }

  get entry(): ModelEntry {
    return this.currentEntry;
  }

  /** Takes over settings that need no reload (startOnBoot); same component, directory and version. */
  updateEntry(entry: ModelEntry): void {
    if (entry.component !== this.component || entry.dir !== this.currentEntry.dir) throw new LookoutError('INTERNAL', `updateEntry cannot move ${this.component} to another model`);
    this.currentEntry = entry;
  }

  describe(): ModelInfo {
    return { component: this.component, modelArn: this.currentEntry.modelArn ?? '', status: this.status, statusMessage: this.statusMessage };
  }

  /** Resolves once a load in progress (if any) has ended, with the state it left. */
  async settled(): Promise<ModelStatus> {
    if (this.loading) await this.loading;
    return this.status;
  }

  /** StartModel: STOPPED or FAILED → STARTING, then RUNNING or FAILED in the background. */
  start(): ModelStatus {
    if (this.status !== ModelStatus.STOPPED && this.status !== ModelStatus.FAILED) {
      throw this.wrongState('start', 'STOPPED or FAILED');
    }
    this.setStatus(ModelStatus.STARTING, 'loading');
    this.loading = this.load().finally(() => {
      this.loading = undefined;
    });
    return this.status;
  }

  private async load(): Promise<void> {
    const { log } = this.deps;
    const entry = this.currentEntry;
    const startedAt = Date.now();
    try {
      const model = await entry.runtime.load(entry.dir, entry.manifest ?? (await readManifest(entry.dir)));
      if (this.status !== ModelStatus.STARTING) {
        // Shut down while loading: do not leave the model resident.
        await model.unload().catch(() => undefined);
        return;
      }
      this.loaded = model;
      this.setStatus(ModelStatus.RUNNING, 'running');
      log.info({ component: this.component, runtime: entry.runtime.kind, ms: Date.now() - startedAt }, 'model running');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setStatus(ModelStatus.FAILED, `load failed: ${message}`);
      log.error({ component: this.component, err }, 'model failed to load');
    }
  }

  /** StopModel: RUNNING → STOPPING → (in-flight inferences finish) → unload → STOPPED. */
  async stop(): Promise<ModelStatus> {
    if (this.status !== ModelStatus.RUNNING) throw this.wrongState('stop', 'RUNNING');
    this.setStatus(ModelStatus.STOPPING, 'stopping');
    await this.whenIdle();
    const model = this.loaded;
    this.loaded = undefined;
    try {
      await model?.unload();
      this.setStatus(ModelStatus.STOPPED, 'stopped');
    } catch (err) {
      this.setStatus(ModelStatus.FAILED, `unload failed: ${err instanceof Error ? err.message : String(err)}`);
      this.deps.log.error({ component: this.component, err }, 'model failed to unload');
    }
    return this.status;
  }

  /** Throws MODEL_NOT_RUNNING unless RUNNING (checked before queueing, and again by acquire()). */
  assertRunning(): void {
    if (this.status !== ModelStatus.RUNNING || !this.loaded) throw this.wrongState('detect anomalies with', 'RUNNING');
  }

  /** Holds the model for one inference; stop() waits until every lease is released. */
  acquire(): ModelLease {
    this.assertRunning();
    const model = this.loaded as LoadedModel;
    this.inFlight++;
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      },
    };
  }

  /**
   * An inference on the loaded model passed its time limit: the runtime is taken for hung. RUNNING →
   * FAILED, and the model is dropped without unloading (the hung call still uses it); StartModel loads
   * a fresh one.
   */
  markHung(reason: string): void {
    if (this.status !== ModelStatus.RUNNING) return;
    this.loaded = undefined;
    this.setStatus(ModelStatus.FAILED, `inference hung: ${reason}`);
    this.deps.log.error({ component: this.component, reason }, 'model marked FAILED: an inference passed its time limit');
  }

  /** Server shutdown: let a load finish, then stop if running. */
  async shutdown(): Promise<void> {
    if (this.loading) await this.loading;
    if (this.status === ModelStatus.RUNNING) await this.stop();
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private setStatus(status: ModelStatus, message: string): void {
    this.status = status;
    this.statusMessage = message;
  }

  private wrongState(action: string, wanted: string): LookoutError {
    const current = ModelStatus[this.status];
    return new LookoutError('MODEL_NOT_RUNNING', `cannot ${action} model ${this.component}: it is ${current}, not ${wanted}`, {
      details: { component: this.component, status: current },
    });
  }
}
