import { toLookoutError, type LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { SourceHealth, SourceState } from '../frame-source.js';
import { sleep } from '../../core/deadline.js';
import { Backoff, type BackoffPolicy } from '../../core/backoff.js';
import { HealthTracker } from './health-tracker.js';

/** What a running session may tell the supervisor. */
export interface SessionContext {
  readonly signal: AbortSignal;
  /** Connected: the state becomes `streaming`. */
  connected(): void;
  /** A frame was delivered: counts it and resets the backoff. */
  delivered(at: number): void;
}

/**
 * One connection attempt: connect, deliver frames until something fails, then reject. Resolving
 * means the session ended on its own (a stream closed) and counts as a failure too, unless stopping.
 */
export type Session = (ctx: SessionContext) => Promise<void>;

export interface SupervisorDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
  readonly random?: () => number;
}

/**
 * The state machine shared by every source:
 *
 *   idle → connecting → streaming → (error) backing-off → connecting …
 *                                 → (SOURCE_STALLED) stalled → connecting …
 *   any → stopped
 *
 * Retryable errors wait a capped exponential backoff with jitter; non-retryable ones (bad
 * credentials) wait the longest delay, since a configuration change may fix them. Health counts
 * frames, drops, reconnects and stalls.
 */
export class SourceSupervisor {
  readonly health: HealthTracker;
  private readonly backoff: Backoff;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private sequence = 0;

  constructor(private readonly deps: SupervisorDeps) {
    this.health = new HealthTracker();
    this.backoff = new Backoff(deps.backoff, deps.random);
  }

  get state(): SourceState {
    return this.health.getState();
  }

  get stopping(): boolean {
    return this.controller?.signal.aborted ?? this.state === 'stopped';
  }

  /** `<camera>-<ms>-<seq>`: unique per source instance, sortable by time. */
  nextFrameId(at: number): string {
    this.sequence += 1;
    return `${this.deps.cameraId}-${at}-${this.sequence}`;
  }

  setState(state: SourceState): void {
    const from = this.health.getState();
    if (from === state || from === 'stopped') return;
    this.health.setState(state);
    this.deps.log.debug({ from, to: state }, 'source state');
  }

  /** Records an error seen outside a session (a failed capture). */
  recordError(err: LookoutError): void {
    this.health.error(err.code, err.message);
  }

  /** Runs `session` again and again until stop(). */
  run(session: Session): void {
    if (this.loop) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.runLoop(session, controller.signal);
  }

  /** Marks the source ready without a loop (trigger-mode snapshot sources). */
  ready(): void {
    this.controller ??= new AbortController();
    this.setState('streaming');
  }

  async stop(reason = 'stop'): Promise<void> {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
    await this.loop;
    this.health.setState('stopped');
  }

  snapshot(): SourceHealth {
    return this.health.snapshot();
  }

  /** Aborted when the source stops; sources pass it to their own waits. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  private async runLoop(session: Session, signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      if (attempt > 0) this.health.reconnect();
      attempt += 1;
      this.setState('connecting');
      let delivered = false;
      const ctx: SessionContext = {
        signal,
        connected: () => {
          if (!signal.aborted) this.setState('streaming');
        },
        delivered: (at) => {
          this.health.frame(at);
          if (!delivered) {
            delivered = true;
            this.backoff.reset();
          }
        },
      };
      let failure: LookoutError;
      try {
        await session(ctx);
        if (signal.aborted) break;
        failure = toLookoutError(new Error('the source ended'), 'SOURCE_UNAVAILABLE');
      } catch (err) {
        if (signal.aborted) break;
        failure = toLookoutError(err, 'SOURCE_UNAVAILABLE');
      }
      this.health.error(failure.code, failure.message);
      const stalled = failure.code === 'SOURCE_STALLED';
      if (stalled) this.health.stall();
      const delayMs = failure.retryable ? this.backoff.next() : this.backoff.longest();
      this.setState(stalled ? 'stalled' : 'backing-off');
      this.deps.log.warn({ code: failure.code, err: failure.message, delayMs }, stalled ? 'source stalled; restarting' : 'source failed; backing off');
      await sleep(delayMs, signal);
    }
  }
}
