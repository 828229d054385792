import { LookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { type ModelInfo, ModelStatus } from '../core/model.js';
import { type ModelEntry, sameModel } from './model-entries.js';
import { ModelSlot } from './model-slot.js';

export interface ModelSetChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly reloaded: readonly string[];
}

/**
 * The models a server offers, by component, and the live changes to that set. The map is what the RPC
 * handlers read: a component leaves it the moment it is removed (new calls: NOT_FOUND) and a reloaded one
 * is swapped in only once its new model is RUNNING. Changes to one component run one after another;
 * different components change independently, and an unchanged model is never touched.
 */
export class ModelSet {
  readonly slots = new Map<string, ModelSlot>();
  /** What each component is meant to serve after the queued changes (the map may still lag behind). */
  private readonly intended = new Map<string, ModelEntry>();
  private readonly chains = new Map<string, Promise<void>>();
  private started = false;

  constructor(private readonly deps: { readonly log: Logger; readonly entries: readonly ModelEntry[] }) {
    for (const entry of deps.entries) {
      if (this.slots.has(entry.component)) throw new LookoutError('CONFIG_INVALID', `model component ${entry.component} is configured twice`);
      this.slots.set(entry.component, this.newSlot(entry));
      this.intended.set(entry.component, entry);
    }
  }

  /** Starts every startOnBoot model (asynchronously); changes applied from now on start models too. */
  startOnBoot(): void {
    this.started = true;
    for (const slot of this.slots.values()) if (slot.entry.startOnBoot !== false) slot.start();
  }

  describe(): ModelInfo[] {
    return [...this.slots.values()].map((s) => s.describe());
  }

  /**
   * Makes the set serve exactly `entries`: new components are added (and started when startOnBoot),
   * missing ones stopped and removed (running calls finish first), ones whose directory or version
   * changed reloaded. Returns at once with what it will do; `idle()` waits for it.
   */
  apply(entries: readonly ModelEntry[]): ModelSetChanges {
    const next = new Map(entries.map((e) => [e.component, e]));
    const added: string[] = [];
    const removed: string[] = [];
    const reloaded: string[] = [];
    for (const [component, before] of this.intended) {
      if (next.has(component)) continue;
      this.intended.delete(component);
      removed.push(component);
      this.enqueue(component, () => this.remove(component, before));
    }
    for (const [component, entry] of next) {
      const before = this.intended.get(component);
      this.intended.set(component, entry);
      if (!before) {
        added.push(component);
        this.enqueue(component, async () => this.add(entry));
      } else if (!sameModel(before, entry)) {
        reloaded.push(component);
        this.enqueue(component, () => this.reload(entry));
      } else if (before.startOnBoot !== entry.startOnBoot) {
        this.enqueue(component, async () => this.slots.get(component)?.updateEntry(entry));
      }
    }
    return { added, removed, reloaded };
  }

  /** Resolves once every queued change has been carried out. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /** Server shutdown: queued changes end, then every model stops (running calls finish first). */
  async shutdown(): Promise<void> {
    this.started = false;
    await this.idle();
    await Promise.all([...this.slots.values()].map((s) => s.shutdown().catch(() => undefined)));
  }

  private enqueue(component: string, job: () => Promise<void>): void {
    const run = (this.chains.get(component) ?? Promise.resolve()).then(job).catch((err: unknown) => {
      this.deps.log.error({ component, err }, 'model change failed');
    });
    this.chains.set(component, run);
    void run.then(() => {
      if (this.chains.get(component) === run) this.chains.delete(component);
    });
  }

  private newSlot(entry: ModelEntry): ModelSlot {
    return new ModelSlot({ entry, log: this.deps.log });
  }

  private add(entry: ModelEntry): void {
    const slot = this.newSlot(entry);
    this.slots.set(entry.component, slot);
    this.deps.log.info({ component: entry.component, dir: entry.dir, version: entry.version }, 'model added');
    if (this.started && entry.startOnBoot !== false) slot.start();
  }

  private async remove(component: string, entry: ModelEntry): Promise<void> {
    const slot = this.slots.get(component);
    this.slots.delete(component);
    await slot?.shutdown();
    this.deps.log.info({ component, dir: entry.dir, version: entry.version }, 'model removed');
  }

  /**
   * A RUNNING model keeps serving while its replacement loads; the replacement is swapped in once
   * RUNNING, then the old one stops (its running calls finish first). A replacement that fails to load
   * leaves the old model serving. A model that was not RUNNING is replaced at once, and started when it
   * was STARTING, or FAILED with startOnBoot.
   */
  private async reload(entry: ModelEntry): Promise<void> {
    const { log } = this.deps;
    const component = entry.component;
    const old = this.slots.get(component);
    const fresh = this.newSlot(entry);
    const status = old ? (await old.settled(), old.describe().status) : ModelStatus.STOPPED;
    const from = { dir: old?.entry.dir, version: old?.entry.version };
    if (old && status === ModelStatus.RUNNING && this.started) {
      fresh.start();
      if ((await fresh.settled()) !== ModelStatus.RUNNING) {
        log.error({ component, to: { dir: entry.dir, version: entry.version }, from, reason: fresh.describe().statusMessage }, 'model reload failed; the previous version keeps serving');
        return;
      }
      if (old.describe().status !== ModelStatus.RUNNING) {
        // Stopped (StopModel) while the new version loaded: the new version stays stopped too.
        await fresh.shutdown();
        this.slots.set(component, this.newSlot(entry));
      } else {
        this.slots.set(component, fresh);
      }
      await old.shutdown();
    } else {
      this.slots.set(component, fresh);
      await old?.shutdown();
      const restart = status === ModelStatus.STARTING || (status === ModelStatus.FAILED && entry.startOnBoot !== false) || (!old && entry.startOnBoot !== false);
      if (this.started && restart) fresh.start();
    }
    log.info({ component, from, to: { dir: entry.dir, version: entry.version } }, 'model reloaded');
  }
}
