/**
 * The inspector as a long-running service: under Greengrass it shares one nucleus connection for
 * configuration, publishing and state; reports RUNNING once really started (ERRORED when start-up
 * fails); and applies configuration updates live, restarting only the parts whose slice changed.
 */
import type { ResolvedConfig } from './cli/config-options.js';
import { type ConfigUpdatePlan, planConfigUpdate } from './config/live-update.js';
import type { Config } from './config/schema.js';
import { toLookoutError } from './core/errors.js';
import type { Logger } from './core/log.js';
import { watchGreengrassConfiguration } from './greengrass/component-config.js';
import type { NucleusIpc } from './greengrass/nucleus-ipc.js';
import { type InspectorApp, startInspectorApp } from './main.js';

export interface InspectorServiceDeps {
  readonly resolved: ResolvedConfig;
  readonly log: Logger;
  readonly ipc?: NucleusIpc;
}

/** Slices that only a restart of the whole inspector (in this process) can take over. */
const REBUILD_SLICES = new Set<keyof Config>(['publish', 'outbox', 'masks', 'evidence', 'logging', 'thingName']);

export class InspectorService {
  private app: InspectorApp | undefined;
  private current: Readonly<Config>;
  private unwatch: (() => void) | undefined;
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: InspectorServiceDeps) {
    this.current = deps.resolved.config;
  }

  get inspectorApp(): InspectorApp | undefined {
    return this.app;
  }

  get config(): Readonly<Config> {
    return this.current;
  }

  async start(): Promise<void> {
    const { ipc, log } = this.deps;
    try {
      this.app = await startInspectorApp(this.current, { log, ...(ipc ? { ipc } : {}) });
    } catch (err) {
      await ipc?.updateState('ERRORED').catch(() => undefined);
      throw err;
    }
    if (ipc) {
      await ipc.updateState('RUNNING');
      this.unwatch = watchGreengrassConfiguration(
        ipc,
        (layer, keyPath) => this.enqueue(layer.values, keyPath),
        (err) => log.error({ err: toLookoutError(err).toJSON() }, 'could not read the updated configuration'),
      );
    }
    log.info({ thingName: this.current.thingName, greengrass: ipc !== undefined }, 'inspector running');
  }

  async stop(reason: string): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    await this.applying;
    await this.app?.stop(reason);
    this.app = undefined;
  }

  /** Applies a new Greengrass component configuration (as delivered, `accessControl` and all). */
  update(candidate: unknown): Promise<ConfigUpdatePlan> {
    let plan: ConfigUpdatePlan | undefined;
    const run = this.applying.then(async () => {
      plan = planConfigUpdate(this.current, candidate, { below: this.deps.resolved.below, above: this.deps.resolved.above });
      await this.apply(plan);
    });
    this.applying = run.catch(() => undefined);
    return run.then(() => plan!);
  }

  private enqueue(candidate: unknown, keyPath: readonly string[]): void {
    this.update(candidate).catch((err: unknown) => this.deps.log.error({ err: toLookoutError(err).toJSON(), keyPath }, 'configuration update failed'));
  }

  private async apply(plan: ConfigUpdatePlan): Promise<void> {
    const { log } = this.deps;
    if (this.stopped || !this.app) return;
    if (!plan.ok) {
      log.error({ problems: plan.problems }, 'configuration update rejected; the last good configuration stays');
      return;
    }
    const { slices, cameras } = plan.changed;
    if (slices.length === 0) return;
    let next = plan.config;
    const inferenceChanged = slices.includes('inference');
    const onlyModelChanged = inferenceChanged && sameExceptModel(this.current.inference, next.inference);
    const rebuild = plan.restartRequired || slices.some((s) => REBUILD_SLICES.has(s)) || (inferenceChanged && !onlyModelChanged);
    log.info({ slices, cameras, rebuild }, 'applying configuration update');

    if (rebuild) {
      await this.app.stop('configuration changed');
      this.app = undefined;
      this.app = await startInspectorApp(next, { log, ...(this.deps.ipc ? { ipc: this.deps.ipc } : {}) });
      this.current = next;
      return;
    }
    const { inspector } = this.app;
    if (onlyModelChanged) {
      try {
        await inspector.switchModel(next.inference.modelComponent);
      } catch (err) {
        // The old model keeps serving; the rest of the update still applies.
        log.error({ err: toLookoutError(err).toJSON(), to: next.inference.modelComponent }, 'model switch failed; the previous model keeps serving');
        next = { ...next, inference: { ...next.inference, modelComponent: this.current.inference.modelComponent } };
      }
    }
    if (slices.includes('decide')) inspector.applyDecide(next.decide);
    if (slices.includes('cameras')) await inspector.applyCameras(next.cameras);
    if (slices.includes('status')) await this.app.restartStatus(next.status);
    this.current = next;
  }
}

function sameExceptModel(a: Config['inference'], b: Config['inference']): boolean {
  return JSON.stringify({ ...a, modelComponent: '' }) === JSON.stringify({ ...b, modelComponent: '' });
}
