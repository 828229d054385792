import { type ConfigUpdatePlan, planConfigUpdate } from '../config/live-update.js';
import type { ConfigLayer } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { watchGreengrassConfiguration } from '../greengrass/component-config.js';
import type { NucleusIpc } from '../greengrass/nucleus-ipc.js';
import { hasStatusSection, modelServerChanges, withRunningModelServer } from './config-changes.js';
import { EdgeAgentServer } from './edge-agent-server.js';
import { HealthServer } from './health/health-server.js';
import type { ModelServerMetrics } from './health/metrics.js';
import type { ModelServerSnapshot } from './health/readiness.js';
import { ModelSources } from './model-sources.js';
import type { CreateRpcServer } from './rpc-server.js';
import type { ModelRuntime } from './runtime.js';

/**
 * The shutdown budget. The nucleus sends SIGKILL 5 s after SIGTERM: running calls get `drainMs`, the
 * models `unloadMs` to unload, and what is left (socket file, nucleus connection) fits in the rest.
 */
export const SHUTDOWN_BUDGET = { drainMs: 2_500, unloadMs: 1_000 } as const;

export interface ModelServerServiceDeps {
  /** The configuration at start-up, with the layers around the Greengrass one (to layer updates alike). */
  readonly config: Readonly<Config>;
  readonly below?: readonly ConfigLayer[];
  readonly above?: readonly ConfigLayer[];
  readonly runtimes: Record<string, ModelRuntime>;
  readonly metrics: ModelServerMetrics;
  readonly log: Logger;
  /** Builds the Edge Agent server's RPC server (the grpc-js adapter). */
  readonly createRpcServer: CreateRpcServer;
  /** Under Greengrass: UpdateState and configuration updates. */
  readonly ipc?: NucleusIpc;
  /** Registry rescan period (default 2 s). */
  readonly registryRescanMs?: number;
  /**
   * Whether a layer at start-up (Greengrass configuration, file, flags) has a `status` section. The health
   * endpoint opens only then: with schema defaults alone it would take the inspector's port (8080).
   */
  readonly statusConfigured: boolean;
}

/**
 * `serve-model` as a long-running service: the Edge Agent server, the health endpoint, and the model
 * registry. Under Greengrass it reports RUNNING once the socket listens (ERRORED when start-up fails)
 * and applies configuration updates live: a changed model list is applied without touching unchanged
 * models; a bad update is logged and the last good configuration stays.
 */
export class ModelServerService {
  private current: Readonly<Config>;
  private server: EdgeAgentServer | undefined;
  private health: HealthServer | undefined;
  private readonly sources: ModelSources;
  private unwatch: (() => void) | undefined;
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;
  private statusConfigured: boolean;

  constructor(private readonly deps: ModelServerServiceDeps) {
    this.current = deps.config;
    this.statusConfigured = deps.statusConfigured;
    this.sources = new ModelSources({
      runtimes: deps.runtimes,
      log: deps.log,
      onChange: () => this.serialize(async () => this.applyModels()),
      ...(deps.registryRescanMs ? { rescanMs: deps.registryRescanMs } : {}),
    });
  }

  get config(): Readonly<Config> {
    return this.current;
  }

  /** The gRPC server (after start). */
  get edgeAgent(): EdgeAgentServer | undefined {
    return this.server;
  }

  get healthServer(): HealthServer | undefined {
    return this.health;
  }

  async start(): Promise<void> {
    const { ipc, log } = this.deps;
    try {
      await this.sources.configure(this.current.modelServer);
      const { entries, waiting } = this.sources.current();
      if (entries.length + waiting.length === 0) log.warn({ modelsDir: this.current.modelServer.modelsDir }, 'no models configured: serving an empty model list');
      this.server = new EdgeAgentServer({
        config: this.current.modelServer,
        entries,
        log,
        createRpcServer: this.deps.createRpcServer,
        observer: this.deps.metrics,
        shutdownGraceMs: SHUTDOWN_BUDGET.drainMs,
        unloadGraceMs: SHUTDOWN_BUDGET.unloadMs,
      });
      await this.server.start();
      await this.openHealth(this.current);
    } catch (err) {
      await ipc?.updateState('ERRORED').catch(() => undefined);
      await this.stop('start-up failed');
      throw err;
    }
    if (ipc) {
      await ipc.updateState('RUNNING');
      this.unwatch = watchGreengrassConfiguration(
        ipc,
        (layer, keyPath) => {
          this.update(layer.values).catch((err: unknown) => log.error({ err: toLookoutError(err).toJSON(), keyPath }, 'configuration update failed'));
        },
        (err) => log.error({ err: toLookoutError(err).toJSON() }, 'could not read the updated configuration'),
      );
    }
  }

  /** Refuses new calls, finishes running ones (capped), unloads models, removes the socket: see SHUTDOWN_BUDGET. */
  async stop(reason: string): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = undefined;
    this.sources.stop();
    const health = this.health;
    this.health = undefined;
    await Promise.all([health?.stop(), this.server?.stop(reason)]);
  }

  snapshot(): ModelServerSnapshot {
    const server = this.server;
    const startOnBoot = new Map((server?.entries() ?? []).map((e) => [e.component, e.startOnBoot !== false]));
    return {
      listening: server?.listening ?? false,
      models: (server?.models() ?? []).map((m) => ({ ...m, startOnBoot: startOnBoot.get(m.component) ?? true })),
      waiting: this.sources.current().waiting,
      queue: server?.stats() ?? { active: 0, waiting: 0, completed: 0, rejected: 0, abandoned: 0, skipped: 0, reservedBytes: 0, readingBytes: 0, readsWaiting: 0, overBudget: 0, readTimeouts: 0, peakBytes: 0 },
    };
  }

  /** Applies a new Greengrass component configuration (as delivered, `accessControl` and all). */
  update(candidate: unknown): Promise<ConfigUpdatePlan> {
    let plan: ConfigUpdatePlan | undefined;
    const run = this.serialize(async () => {
      plan = planConfigUpdate(this.current, candidate, { ...(this.deps.below ? { below: this.deps.below } : {}), ...(this.deps.above ? { above: this.deps.above } : {}) });
      await this.apply(plan, candidate);
    });
    return run.then(() => plan!);
  }

  private serialize(job: () => Promise<void>): Promise<void> {
    const run = this.applying.then(job);
    this.applying = run.catch((err: unknown) => this.deps.log.error({ err: toLookoutError(err).toJSON() }, 'model server change failed'));
    return run;
  }

  private applyModels(): void {
    if (this.stopped || !this.server) return;
    const changes = this.server.applyModels(this.sources.current().entries);
    if (changes.added.length + changes.removed.length + changes.reloaded.length > 0) this.deps.log.info(changes, 'applying model changes');
  }

  private async apply(plan: ConfigUpdatePlan, candidate: unknown): Promise<void> {
    const { log } = this.deps;
    if (this.stopped) return;
    if (!plan.ok) {
      log.error({ problems: plan.problems }, 'configuration update rejected; the last good configuration stays');
      return;
    }
    const statusConfigured = hasStatusSection([...(this.deps.below ?? []).map((l) => l.values), candidate, ...(this.deps.above ?? []).map((l) => l.values)]);
    const changes = modelServerChanges(this.current, plan.config);
    const next = withRunningModelServer(this.current, plan.config);
    if (changes.models) {
      try {
        await this.sources.configure(next.modelServer);
      } catch (err) {
        log.error({ err: toLookoutError(err).toJSON() }, 'configuration update rejected (a model directory is unusable); the last good configuration stays');
        return;
      }
      this.applyModels();
    }
    if (changes.restartKeys.length > 0) log.warn({ keys: changes.restartKeys }, 'these model server settings take effect when serve-model restarts');
    if (changes.logLevel) log.level = next.logging.level;
    if (changes.status || statusConfigured !== this.statusConfigured) {
      this.statusConfigured = statusConfigured;
      await this.health?.stop();
      this.health = undefined;
      await this.openHealth(next).catch((err: unknown) => log.error({ err: toLookoutError(err).toJSON() }, 'health endpoint not reopened with the new status settings'));
    }
    this.current = next;
  }

  private async openHealth(config: Readonly<Config>): Promise<void> {
    if (!this.statusConfigured || !config.status.enabled || this.stopped) return;
    const health = new HealthServer({ config: config.status, snapshot: () => this.snapshot(), metrics: this.deps.metrics, log: this.deps.log.child({ stage: 'model-server-health' }) });
    await health.start();
    this.health = health;
  }
}
