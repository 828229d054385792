import { LookoutError, isLookoutError } from '../../core/errors.js';
import type { Frame, RawFrameData } from '../../core/frame.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import type { GenicamSourceConfig } from '../../config/slices/sources.js';
import type { FrameSource, FrameSourceDeps, SourceHealth } from '../frame-source.js';
import { SourceSupervisor, type SessionContext } from '../core/source-supervisor.js';
import { startArvWorker, type ArvWorker, type WorkerStats } from './arv-worker.js';
import { toRawFrame } from './pixel-formats.js';
import type { WorkerFrame } from './worker-records.js';

export interface GenicamSourceDeps extends FrameSourceDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly config: GenicamSourceConfig;
}

/** Counters of the camera's stream, beside the usual source health. */
export interface GenicamCounters extends Readonly<Record<string, number>> {
  /** Frames the camera sent incomplete (missing packets, timeouts): dropped, counted in framesDropped too. */
  readonly incompleteFrames: number;
  /** Hardware-triggered frames the pipeline's queue refused (QUEUE_FULL): lost parts, counted and logged. */
  readonly triggeredFramesRefused: number;
  /** Since the camera was last opened, from Aravis. */
  readonly resentPackets: number;
  readonly missingPackets: number;
  readonly underruns: number;
}

/** Opening a camera, or finding it by serial (a discovery round), before the first record. */
const OPEN_GRACE_MS = 10_000;

interface Latest {
  readonly data: RawFrameData;
  readonly at: number;
}

/**
 * A GenICam camera (GigE Vision, USB3 Vision) through the Aravis worker, a child process per camera
 * restarted by the shared supervisor. Free running: the newest frame goes to the pipeline (which
 * keeps the newest). Hardware trigger: every frame is a part and goes to the pipeline's lossless
 * queue; a refusal (queue full) is counted and logged. Software trigger: capture() fires the camera
 * and resolves with the frame that follows.
 */
export class GenicamSource implements FrameSource {
  readonly cameraId: string;
  private readonly supervisor: SourceSupervisor;
  private readonly origin: string;
  private worker: ArvWorker | undefined;
  /** Ends the running session early (a software trigger went unanswered). */
  private restart: ((reason: LookoutError) => void) | undefined;
  private latest: Latest | undefined;
  private waiters: ((latest: Latest | undefined) => void)[] = [];
  /** Software triggers run one at a time: each one's frame is the next to come. */
  private captureChain: Promise<unknown> = Promise.resolve();
  private parts = 0;
  private counters = { incompleteFrames: 0, triggeredFramesRefused: 0, resentPackets: 0, missingPackets: 0, underruns: 0 };

  constructor(private readonly deps: GenicamSourceDeps) {
    this.cameraId = deps.cameraId;
    this.supervisor = new SourceSupervisor({ cameraId: deps.cameraId, backoff: deps.backoff, log: deps.log });
    this.origin = `genicam:${deps.config.serial ?? deps.config.address ?? ''}`;
  }

  async start(): Promise<void> {
    this.supervisor.run((ctx) => this.session(ctx));
  }

  async stop(reason?: string): Promise<void> {
    await this.supervisor.stop(reason);
    this.wake(undefined);
  }

  health(): SourceHealth & { readonly counters: GenicamCounters } {
    return { ...this.supervisor.snapshot(), counters: { ...this.counters } };
  }

  capture(partId?: string): Promise<Frame> {
    if (this.deps.config.acquisition.mode !== 'software') return this.newest(partId);
    const run = this.captureChain.then(() => this.triggered(partId));
    this.captureChain = run.catch(() => undefined);
    return run;
  }

  /** Fires the software trigger and waits for the frame it makes. */
  private async triggered(partId?: string): Promise<Frame> {
    const timeoutMs = this.deps.config.triggerTimeoutMs;
    const next = this.nextFrame(timeoutMs);
    if (!this.worker?.send('trigger')) {
      this.wake(undefined);
      await next;
      throw this.captureFailed(new LookoutError('SOURCE_UNAVAILABLE', `camera ${this.cameraId} is not connected`));
    }
    const latest = await next;
    if (!latest) {
      const err = this.captureFailed(new LookoutError('SOURCE_STALLED', `no frame from ${this.cameraId} within ${timeoutMs} ms of the software trigger`));
      // its frame may still come, and would be taken for the next part's: reopen the camera instead
      this.restart?.(err);
      throw err;
    }
    return this.toFrame(latest, partId);
  }

  /** Free running or hardware triggered: the newest frame if fresh, else the next one. */
  private async newest(partId?: string): Promise<Frame> {
    const fps = this.deps.config.fps ?? 1;
    const latest = this.latest;
    if (latest && Date.now() - latest.at <= Math.max(1_000, 3_000 / fps)) return this.toFrame(latest, partId);
    const next = await this.nextFrame(this.deps.config.stallTimeoutMs);
    if (!next) throw this.captureFailed(new LookoutError('SOURCE_STALLED', `no fresh frame from ${this.cameraId}`));
    return this.toFrame(next, partId);
  }

  private captureFailed(err: LookoutError): LookoutError {
    this.supervisor.recordError(err);
    return err;
  }

  /** The next frame to arrive, or undefined after `timeoutMs` or when the source stops. */
  private nextFrame(timeoutMs: number): Promise<Latest | undefined> {
    if (this.supervisor.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      const waiter = (latest: Latest | undefined): void => {
        clearTimeout(timer);
        resolve(latest);
      };
      this.waiters.push(waiter);
    });
  }

  private wake(latest: Latest | undefined): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(latest);
  }

  private toFrame(latest: Latest, partId?: string): Frame {
    return {
      id: this.supervisor.nextFrameId(latest.at),
      cameraId: this.cameraId,
      capturedAt: latest.at,
      data: latest.data,
      origin: this.origin,
      ...(partId !== undefined ? { partId } : {}),
    };
  }

  private async session(ctx: SessionContext): Promise<void> {
    const { config, log } = this.deps;
    const mode = config.acquisition.mode;
    const ended = new AbortController();
    let restartedFor: LookoutError | undefined;
    this.restart = (reason) => {
      restartedFor ??= reason;
      ended.abort();
    };
    const worker = startArvWorker({
      pythonPath: config.pythonPath,
      args: ['stream', JSON.stringify(workerSettings(config))],
      stallTimeoutMs: config.stallTimeoutMs,
      firstRecordGraceMs: OPEN_GRACE_MS,
      framesOnly: mode === 'free',
      maxFrameBytes: config.maxFrameBytes,
      signal: AbortSignal.any([ctx.signal, ended.signal]),
      onMessage: (body) => {
        if (body.type === 'ready') {
          log.info({ camera: body.camera, settings: body.settings }, 'GenICam camera ready');
          ctx.connected();
        } else if (body.type === 'stats') {
          const stats = body as unknown as WorkerStats;
          this.counters.underruns = stats.underruns;
          this.counters.resentPackets = stats.resentPackets ?? 0;
          this.counters.missingPackets = stats.missingPackets ?? 0;
        }
      },
      onFrame: (frame) => this.received(frame, ctx),
    });
    this.worker = worker;
    try {
      await worker.done;
      if (restartedFor && !ctx.signal.aborted) throw restartedFor;
    } finally {
      this.restart = undefined;
      this.worker = undefined;
      this.latest = undefined;
    }
  }

  private received(frame: WorkerFrame, ctx: SessionContext): void {
    if (frame.status !== 0) {
      this.counters.incompleteFrames += 1;
      this.supervisor.health.drop();
      return;
    }
    // a buffer that does not match its header throws SOURCE_PROTOCOL: the worker is restarted
    const latest: Latest = { data: toRawFrame(frame.width, frame.height, frame.pixelFormat, frame.pixels), at: Date.now() };
    this.latest = latest;
    ctx.delivered(latest.at);
    this.wake(latest);
    if (!this.deps.freeRunning) return;
    const mode = this.deps.config.acquisition.mode;
    if (mode === 'hardware') {
      this.parts += 1;
      this.deliverPart(this.toFrame(latest, `${this.cameraId}-${this.parts}`));
    } else if (mode === 'free') {
      void this.deliver(this.toFrame(latest));
    }
  }

  /** A triggered frame is a part: a refusal is a lost part, counted and logged, never silent. */
  private deliverPart(frame: Frame): void {
    this.deliver(frame).catch((err: unknown) => {
      if (!isLookoutError(err, 'QUEUE_FULL')) return;
      this.counters.triggeredFramesRefused += 1;
      this.supervisor.health.drop();
      this.deps.log.error({ frameId: frame.id, partId: frame.partId }, 'triggered frame refused: the inspection queue is full');
    });
  }

  private async deliver(frame: Frame): Promise<unknown> {
    try {
      return await this.deps.onFrame(frame);
    } catch (err) {
      if (!isLookoutError(err, 'QUEUE_FULL')) this.deps.log.warn({ frameId: frame.id, err: err instanceof Error ? err.message : String(err) }, 'pipeline rejected a frame');
      throw err;
    }
  }
}

/** What the worker needs of the configuration (workers/arv-worker.py reads these keys). */
function workerSettings(config: GenicamSourceConfig): Record<string, unknown> {
  const { serial, address, pixelFormat, roi, exposureUs, gainDb, fps, packetSize, packetDelayNs, acquisition } = config;
  return { serial, address, pixelFormat, roi, exposureUs, gainDb, fps, packetSize, packetDelayNs, acquisition };
}
