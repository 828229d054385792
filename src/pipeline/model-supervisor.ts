import { EventEmitter } from 'node:events';
import type { InferenceConfig } from '../config/schema.js';
import { type LookoutError, toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { ModelStatus } from '../core/model.js';
import type { InferenceClient } from '../inference/inference-client.js';

export interface ModelLease {
  readonly component: string;
  release(): void;
}

interface SupervisorDeps {
  readonly client: InferenceClient;
  readonly config: InferenceConfig;
  readonly log: Logger;
}

/**
 * Keeps the inspector's model RUNNING and decides which model component frames go to.
 * Each frame takes a lease on the current component; a switch starts the new model, moves new
 * frames to it only once it is RUNNING, waits for the old model's frames in flight, then stops it.
 */
export class ModelSupervisor extends EventEmitter<{ status: [component: string, status: string] }> {
  private current: string;
  private readonly inFlight = new Map<string, number>();
  private readonly drained = new Map<string, Array<() => void>>();
  private ensuring: Promise<void> | undefined;
  private stopped = false;
  private statusName: keyof typeof ModelStatus | 'UNKNOWN' = 'UNKNOWN';
  private statusMessage: string | undefined;
  /** lookout_vision_model_arn per component, as the agent reported it (ours carries the model version). */
  private readonly arns = new Map<string, string>();
  lastError: LookoutError | undefined;

  constructor(private readonly deps: SupervisorDeps) {
    super();
    this.current = deps.config.modelComponent;
  }

  get component(): string {
    return this.current;
  }

  get status(): { component: string; status: keyof typeof ModelStatus | 'UNKNOWN'; statusMessage?: string } {
    return { component: this.current, status: this.statusName, ...(this.statusMessage ? { statusMessage: this.statusMessage } : {}) };
  }

  acquire(): ModelLease {
    const component = this.current;
    this.inFlight.set(component, (this.inFlight.get(component) ?? 0) + 1);
    let released = false;
    return {
      component,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(component) ?? 1) - 1;
        this.inFlight.set(component, left);
        if (left === 0) for (const wake of this.drained.get(component)?.splice(0) ?? []) wake();
      },
    };
  }

  /**
   * Brings the current model to RUNNING in the background, retrying with capped backoff until it
   * is RUNNING or the supervisor stops. Concurrent callers share one attempt.
   */
  ensure(): Promise<void> {
    this.ensuring ??= this.ensureLoop().finally(() => {
      this.ensuring = undefined;
    });
    return this.ensuring;
  }

  /** Called by workers when a call says the model is not there; starts a new ensure cycle. */
  reportFailure(err: LookoutError): void {
    this.lastError = err;
    const unreachable = err.code === 'INFERENCE_UNAVAILABLE' || err.code === 'INFERENCE_SOCKET_UNTRUSTED';
    if (unreachable || err.code === 'MODEL_NOT_RUNNING' || err.code === 'MODEL_NOT_FOUND') {
      this.setStatus(unreachable ? 'UNKNOWN' : 'STOPPED', err.message);
      void this.ensure();
    }
  }

  /** Switches traffic to another model component without losing a frame (see class comment). */
  async switchTo(component: string): Promise<void> {
    if (component === this.current) return this.ensure();
    const old = this.current;
    const info = await this.deps.client.ensureRunning(component); // throws: the old model keeps serving
    this.arns.set(component, info.modelArn);
    this.deps.log.info({ from: old, to: component, status: ModelStatus[info.status] }, 'model switch: new model RUNNING, moving traffic');
    this.current = component;
    this.setStatus('RUNNING', info.statusMessage);
    await this.whenDrained(old);
    try {
      await this.deps.client.stopModel(old);
    } catch (err) {
      this.deps.log.warn({ err: toLookoutError(err).toJSON(), component: old }, 'could not stop the previous model');
    }
  }

  /** Stops and restarts the current model (remote `reload-model`). */
  async reload(): Promise<{ component: string; status: string }> {
    const component = this.current;
    await this.whenDrained(component);
    await this.deps.client.stopModel(component).catch(() => undefined);
    this.setStatus('STOPPED');
    const info = await this.deps.client.ensureRunning(component);
    this.setStatus(ModelStatus[info.status] as keyof typeof ModelStatus, info.statusMessage);
    return { component, status: ModelStatus[info.status] ?? 'UNKNOWN' };
  }

  stop(): void {
    this.stopped = true;
  }

  /** The model ARN (ours ends in the model version) of a component, once the agent has described it. */
  modelArnOf(component: string): string | undefined {
    return this.arns.get(component) || undefined;
  }

  private whenDrained(component: string): Promise<void> {
    if ((this.inFlight.get(component) ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.drained.get(component) ?? [];
      list.push(resolve);
      this.drained.set(component, list);
    });
  }

  private async ensureLoop(): Promise<void> {
    const { initialBackoffMs, maxBackoffMs } = this.deps.config.retry;
    let backoff = Math.max(initialBackoffMs, 100);
    while (!this.stopped) {
      const component = this.current;
      try {
        const info = await this.deps.client.ensureRunning(component);
        this.arns.set(component, info.modelArn);
        this.setStatus(ModelStatus[info.status] as keyof typeof ModelStatus, info.statusMessage);
        this.lastError = undefined;
        return;
      } catch (err) {
        const e = toLookoutError(err, 'MODEL_NOT_RUNNING');
        this.lastError = e;
        this.setStatus(e.code === 'MODEL_FAILED' ? 'FAILED' : 'UNKNOWN', e.message);
        this.deps.log.warn({ err: e.toJSON(), component, retryInMs: backoff }, 'model not running yet');
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  private setStatus(status: keyof typeof ModelStatus | 'UNKNOWN', message?: string): void {
    const changed = status !== this.statusName;
    this.statusName = status;
    this.statusMessage = message;
    if (changed) this.emit('status', this.current, status);
  }
}
