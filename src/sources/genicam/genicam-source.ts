import { LookoutError, isLookoutError } from '../../core/errors.js';
import type { Frame, RawFrameData } from '../../core/frame.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import type { GenicamSourceConfig } from '../../config/slices/sources.js';
import type { FrameSource, FrameSourceDeps, SourceHealth } from '../frame-source.js';
import { SourceSupervisor, type SessionContext } from '../core/source-supervisor.js';
import { startArvWorker, type ArvWorker, type WorkerStats } from './arv-worker.js';
import { PartIdQueue, type AnnouncedPart } from './part-id-queue.js';
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
  /** Hardware trigger: frames that found no announced part id (they carry `<camera>-<n>`). */
  readonly partIdMissing: number;
  /** Announced part ids dropped unpaired after `partIdMaxAgeMs` (PART_ID_EXPIRED). */
  readonly partIdExpired: number;
  /** Announcements refused because `partIdQueueSize` ids were already waiting (QUEUE_FULL). */
  readonly partIdRefused: number;
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
  private counters = { incompleteFrames: 0, triggeredFramesRefused: 0, resentPackets: 0, missingPackets: 0, underruns: 0, partIdMissing: 0, partIdExpired: 0 };
  /** Hardware trigger: the part ids our triggers announced, waiting for their frames. */
  private readonly partIds: PartIdQueue | undefined;
  /** A PLC announces ids here (then a frame without one is news, logged once until ids pair again). */
  private announced = false;
  private missingLogged = false;
  /**
   * Hardware trigger only: the id of a part the line fires (from a PLC, MQTT or HTTP trigger). The
   * oldest fresh one is given to the next triggered frame; resolves with what the pipeline made of
   * that frame (its verdict), rejects when it expired, was refused or the frame was lost.
   */
  readonly announcePart?: (partId: string) => Promise<unknown>;

  constructor(private readonly deps: GenicamSourceDeps) {
    this.cameraId = deps.cameraId;
    this.supervisor = new SourceSupervisor({ cameraId: deps.cameraId, backoff: deps.backoff, log: deps.log });
    this.origin = `genicam:${deps.config.serial ?? deps.config.address ?? ''}`;
    const acquisition = deps.config.acquisition;
    if (acquisition.mode === 'hardware') {
      const partIds = new PartIdQueue({ capacity: acquisition.partIdQueueSize, maxAgeMs: acquisition.partIdMaxAgeMs, onExpired: (part) => this.expired(part) });
      this.partIds = partIds;
      this.announcePart = (partId) => {
        this.announced = true;
        return partIds.announce(partId);
      };
    }
  }

  async start(): Promise<void> {
    this.supervisor.run((ctx) => this.session(ctx));
  }

  async stop(reason?: string): Promise<void> {
    await this.supervisor.stop(reason);
    this.wake(undefined);
    this.partIds?.clear(new LookoutError('SOURCE_UNAVAILABLE', `camera ${this.cameraId} stopped before the part's frame came`));
  }

  health(): SourceHealth & { readonly counters: GenicamCounters } {
    return { ...this.supervisor.snapshot(), counters: { ...this.counters, partIdRefused: this.partIds?.refused ?? 0 } };
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
    const hardware = this.deps.config.acquisition.mode === 'hardware' && this.deps.freeRunning;
    if (frame.status !== 0) {
      this.counters.incompleteFrames += 1;
      this.supervisor.health.drop();
      // a triggered frame lost on the way is a part: its id goes with it, later frames keep theirs
      if (hardware) this.partLost(this.nextPart(), frame.status);
      return;
    }
    // a buffer that does not match its header throws SOURCE_PROTOCOL: the worker is restarted
    const latest: Latest = { data: toRawFrame(frame.width, frame.height, frame.pixelFormat, frame.pixels), at: Date.now() };
    this.latest = latest;
    ctx.delivered(latest.at);
    this.wake(latest);
    if (!this.deps.freeRunning) return;
    if (hardware) {
      const part = this.nextPart();
      this.deliverPart(this.toFrame(latest, part.partId), part.announced);
    } else if (this.deps.config.acquisition.mode === 'free') {
      void this.deliver(this.toFrame(latest));
    }
  }

  /** The next triggered frame's part: the oldest fresh announced id, else `<camera>-<n>` (counted). */
  private nextPart(): { readonly partId: string; readonly announced?: AnnouncedPart } {
    this.parts += 1;
    const part = this.partIds?.take();
    if (part) {
      this.missingLogged = false;
      return { partId: part.partId, announced: part };
    }
    this.counters.partIdMissing += 1;
    const partId = `${this.cameraId}-${this.parts}`;
    if (this.announced && !this.missingLogged) {
      this.missingLogged = true;
      this.deps.log.warn({ partId }, 'triggered frames without an announced part id: they take the counter id (logged once until ids pair again)');
    }
    return { partId };
  }

  private expired(part: AnnouncedPart): void {
    this.counters.partIdExpired += 1;
    this.deps.log.warn({ partId: part.partId, ageMs: Date.now() - part.at }, 'announced part id dropped: no triggered frame came for it');
  }

  private partLost(part: { readonly partId: string; readonly announced?: AnnouncedPart }, status: number): void {
    this.deps.log.error({ partId: part.partId, status }, 'triggered frame arrived incomplete: its part is not inspected');
    part.announced?.settle(Promise.reject(new LookoutError('FRAME_CORRUPT', `the camera sent part ${part.partId}'s frame incomplete (Aravis buffer status ${status})`)));
  }

  /** A triggered frame is a part: a refusal is a lost part, counted and logged, never silent. */
  private deliverPart(frame: Frame, announced: AnnouncedPart | undefined): void {
    const delivered = this.deliver(frame);
    announced?.settle(delivered);
    delivered.catch((err: unknown) => {
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
