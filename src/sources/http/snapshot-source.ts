import { isLookoutError, toLookoutError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import type { FrameSource, FrameSourceDeps, SourceHealth } from '../frame-source.js';
import { sleep } from '../../core/deadline.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import { encodedFrame, handOff } from '../core/frames.js';
import { SourceSupervisor, type SessionContext } from '../core/source-supervisor.js';
import type { SnapshotFetcher } from './snapshot-fetcher.js';

/** Something that yields a ready fetcher: the fixed URL of an http camera, or an ONVIF device's snapshot URI. */
export interface SnapshotEndpoint {
  connect(signal: AbortSignal): Promise<{ fetcher: SnapshotFetcher; origin: string }>;
  /** Forget what connect() found (after a failure), so the next connect() asks the device again. */
  reset?(): void;
}

export interface SnapshotSourceDeps extends FrameSourceDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly intervalMs: number;
  readonly endpoint: SnapshotEndpoint;
}

/**
 * Polls a snapshot URL every `intervalMs` in free-running mode; `capture()` GETs one now. A frame
 * over the byte limit is dropped and counted; any other failure backs off and reconnects.
 */
export class SnapshotSource implements FrameSource {
  readonly cameraId: string;
  private readonly supervisor: SourceSupervisor;
  private connection: { fetcher: SnapshotFetcher; origin: string } | undefined;

  constructor(private readonly deps: SnapshotSourceDeps) {
    this.cameraId = deps.cameraId;
    this.supervisor = new SourceSupervisor({ cameraId: deps.cameraId, backoff: deps.backoff, log: deps.log });
  }

  async start(): Promise<void> {
    if (this.deps.freeRunning) {
      this.supervisor.run((ctx) => this.session(ctx));
      return;
    }
    this.supervisor.setState('connecting');
    try {
      await this.connect(this.supervisor.signal);
      this.supervisor.ready();
    } catch (err) {
      const e = toLookoutError(err, 'SOURCE_UNAVAILABLE');
      this.supervisor.recordError(e);
      this.supervisor.setState('backing-off');
      this.deps.log.warn({ code: e.code, err: e.message }, 'snapshot camera not reachable yet; capture() will retry');
    }
  }

  stop(reason?: string): Promise<void> {
    return this.supervisor.stop(reason);
  }

  health(): SourceHealth {
    return this.supervisor.snapshot();
  }

  async capture(partId?: string): Promise<Frame> {
    const signal = this.supervisor.signal;
    try {
      const { fetcher, origin } = await this.connect(signal);
      const snap = await fetcher.fetch(signal);
      const at = Date.now();
      this.supervisor.health.frame(at);
      if (!this.deps.freeRunning) this.supervisor.ready();
      return encodedFrame(this.supervisor.nextFrameId(at), this.cameraId, at, snap.bytes, origin, partId);
    } catch (err) {
      const e = toLookoutError(err, 'SOURCE_UNAVAILABLE');
      if (e.code === 'FRAME_TOO_LARGE') this.supervisor.health.drop();
      else this.forget();
      this.supervisor.recordError(e);
      throw e;
    }
  }

  private async connect(signal: AbortSignal): Promise<{ fetcher: SnapshotFetcher; origin: string }> {
    this.connection ??= await this.deps.endpoint.connect(signal);
    return this.connection;
  }

  private forget(): void {
    this.connection = undefined;
    this.deps.endpoint.reset?.();
  }

  private async session(ctx: SessionContext): Promise<void> {
    try {
      const { fetcher, origin } = await this.connect(ctx.signal);
      while (!ctx.signal.aborted) {
        const started = Date.now();
        try {
          const snap = await fetcher.fetch(ctx.signal);
          if (ctx.signal.aborted) return;
          const at = Date.now();
          ctx.connected();
          ctx.delivered(at);
          void handOff(this.deps.onFrame, encodedFrame(this.supervisor.nextFrameId(at), this.cameraId, at, snap.bytes, origin), this.deps.log);
        } catch (err) {
          if (!isLookoutError(err, 'FRAME_TOO_LARGE')) throw err;
          ctx.connected();
          this.supervisor.health.drop();
          this.supervisor.recordError(err);
          this.deps.log.warn({ code: err.code, err: err.message }, 'snapshot dropped');
        }
        await sleep(Math.max(0, this.deps.intervalMs - (Date.now() - started)), ctx.signal);
      }
    } catch (err) {
      this.forget();
      throw err;
    }
  }
}
