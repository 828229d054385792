import { LookoutError, toLookoutError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import type { RtspSourceConfig } from '../../config/slices/sources.js';
import type { FrameSource, FrameSourceDeps, SourceHealth } from '../frame-source.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import { handOff } from '../core/frames.js';
import { SourceSupervisor, type SessionContext } from '../core/source-supervisor.js';
import { FIRST_FRAME_GRACE_MS, runFfmpegFrames } from './ffmpeg-frames.js';
import type { RgbFrame } from './ppm-stream-parser.js';
import { startAuthRelay } from './rtsp-auth-relay.js';
import { redactRtspUrl } from './rtsp-url.js';

/** Yields the stream URL for each connection attempt: fixed, or asked from an ONVIF device. */
export interface StreamEndpoint {
  resolve(signal: AbortSignal): Promise<string>;
  reset?(): void;
}

export interface RtspSourceDeps extends FrameSourceDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly config: Omit<RtspSourceConfig, 'type' | 'url'>;
  readonly endpoint: StreamEndpoint;
  /** Have ffmpeg deliver frames at this size (the camera's model input; see scaled() in create-frame-source.ts). */
  readonly scaleTo?: { readonly width: number; readonly height: number };
  /** capture() accepts the newest frame only if it is younger than this. Default max(1 s, 3 frame intervals). */
  readonly maxFrameAgeMs?: number;
}

export function fixedStream(url: string): StreamEndpoint {
  return { resolve: () => Promise.resolve(url) };
}

/**
 * An RTSP camera decoded by an ffmpeg child. ffmpeg runs in both modes (so a trigger finds a fresh
 * frame at once); in free-running mode each frame goes to onFrame as RawFrameData. A stall (no
 * frame for stallTimeoutMs) kills the child and restarts it after a capped backoff.
 */
export class RtspSource implements FrameSource {
  readonly cameraId: string;
  private readonly supervisor: SourceSupervisor;
  private latest: { frame: RgbFrame; at: number; origin: string } | undefined;
  private waiters: (() => void)[] = [];
  private readonly maxAgeMs: number;

  constructor(private readonly deps: RtspSourceDeps) {
    this.cameraId = deps.cameraId;
    this.supervisor = new SourceSupervisor({ cameraId: deps.cameraId, backoff: deps.backoff, log: deps.log });
    this.maxAgeMs = deps.maxFrameAgeMs ?? Math.max(1_000, 3_000 / deps.config.fps);
  }

  async start(): Promise<void> {
    this.supervisor.run((ctx) => this.session(ctx));
  }

  async stop(reason?: string): Promise<void> {
    await this.supervisor.stop(reason);
    this.wakeWaiters();
  }

  health(): SourceHealth {
    return this.supervisor.snapshot();
  }

  /** The newest decoded frame if fresh, else the next one (waiting up to stallTimeoutMs). */
  async capture(partId?: string): Promise<Frame> {
    const deadline = Date.now() + this.deps.config.stallTimeoutMs + (this.latest ? 0 : FIRST_FRAME_GRACE_MS);
    while (!this.supervisor.stopping) {
      const latest = this.latest;
      if (latest && Date.now() - latest.at <= this.maxAgeMs) return this.toFrame(latest, partId);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const err = new LookoutError('SOURCE_STALLED', `no fresh frame from ${this.cameraId}`);
    this.supervisor.recordError(err);
    throw err;
  }

  private toFrame(latest: { frame: RgbFrame; at: number; origin: string }, partId?: string): Frame {
    const { frame, at, origin } = latest;
    return {
      id: this.supervisor.nextFrameId(at),
      cameraId: this.cameraId,
      capturedAt: at,
      data: { kind: 'raw', width: frame.width, height: frame.height, pixels: frame.pixels },
      origin,
      ...(partId !== undefined ? { partId } : {}),
    };
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async session(ctx: SessionContext): Promise<void> {
    let url: string;
    try {
      url = await this.deps.endpoint.resolve(ctx.signal);
    } catch (err) {
      this.deps.endpoint.reset?.();
      throw toLookoutError(err, 'SOURCE_UNAVAILABLE');
    }
    const origin = redactRtspUrl(url);
    this.deps.log.info({ url: origin }, 'starting ffmpeg');
    // With credentials, ffmpeg opens a loopback relay that answers the camera's challenge: they never
    // appear on ffmpeg's command line (world-readable in /proc).
    let relay: Awaited<ReturnType<typeof startAuthRelay>>;
    try {
      relay = await startAuthRelay(url, this.deps.config.auth);
    } catch (err) {
      throw new LookoutError('SOURCE_UNAVAILABLE', `cannot relay ${origin}: ${(err as Error).message}`, { cause: err });
    }
    try {
      await runFfmpegFrames({
        ffmpegPath: this.deps.config.ffmpegPath,
        url: relay?.url ?? url,
        transport: this.deps.config.transport,
        fps: this.deps.config.fps,
        stallTimeoutMs: this.deps.config.stallTimeoutMs,
        ...(this.deps.scaleTo ? { scaleTo: this.deps.scaleTo } : {}),
        signal: ctx.signal,
        onFrame: (frame) => {
          const at = Date.now();
          this.latest = { frame, at, origin };
          ctx.connected();
          ctx.delivered(at);
          this.wakeWaiters();
          if (this.deps.freeRunning) void handOff(this.deps.onFrame, this.toFrame(this.latest), this.deps.log);
        },
      });
    } catch (err) {
      this.latest = undefined;
      this.deps.endpoint.reset?.();
      if (relay?.authFailed) throw new LookoutError('SOURCE_AUTH_FAILED', `${origin} refused the credentials (RTSP 401)`, { cause: err });
      throw err;
    } finally {
      await relay?.close();
    }
  }
}
