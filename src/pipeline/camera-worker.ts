import type { EventEmitter } from 'node:events';
import type { CameraConfig, DecideConfig } from '../config/schema.js';
import { type ErrorCode, LookoutError, toLookoutError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import type { InspectorEvents } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { DetectResult } from '../core/model.js';
import type { StageTimings, Verdict } from '../core/verdict.js';
import { type DecisionInput, decide } from '../decide/rules.js';
import type { InferenceClient } from '../inference/inference-client.js';
import type { PreprocessedFrame, Preprocessor } from '../preprocess/preprocessor.js';
import type { FrameSource, FrameSourceDeps } from '../sources/frame-source.js';
import { BoundedQueue } from './bounded-queue.js';
import type { ModelSupervisor } from './model-supervisor.js';
import { LatestPreview, type PreviewJpeg } from './latest-preview.js';
import type { EvidenceSink, MaskSink, PreviewRenderer, SavedMask, VerdictSink } from './ports.js';
import type { StageStats } from './stage-stats.js';

export interface CameraWorkerDeps {
  readonly camera: CameraConfig;
  readonly decideRules: DecideConfig;
  readonly createSource: (deps: FrameSourceDeps) => FrameSource;
  readonly preprocessor: Preprocessor;
  readonly inference: InferenceClient;
  readonly model: ModelSupervisor;
  readonly masks: MaskSink;
  readonly previews: PreviewRenderer;
  readonly sink: VerdictSink;
  /** Keeps frames worth reviewing; optional. */
  readonly evidence?: EvidenceSink;
  readonly events: EventEmitter<InspectorEvents>;
  readonly stats: StageStats;
  readonly log: Logger;
  readonly now?: () => number;
}

/** A job after capture and preprocessing, waiting for the model. */
interface Prepared {
  readonly job: Job;
  readonly timings: StageTimings;
  readonly startedAt: number;
  readonly t0: number;
  readonly frame?: Frame;
  readonly image?: PreprocessedFrame;
  /** Set when capture or preprocessing failed. */
  readonly input?: DecisionInput;
}

/** A unit of work: a frame that arrived, or a request to capture one (trigger, snapshot command). */
interface Job {
  readonly frame?: Frame;
  readonly partId?: string;
  readonly enqueuedAt: number;
  settle(result: Verdict | undefined, error?: unknown): void;
}

/**
 * Frames prepared ahead of the one at the model (the one being preprocessed included). Queued jobs
 * (triggers, folder drops) go two ahead, so a slow inference or fsync does not leave the preprocessor
 * idle; a free-running camera's newest frame goes one ahead, so what reaches the model stays fresh.
 */
const QUEUED_AHEAD = 2;
const NEWEST_AHEAD = 1;

/** Stage durations to the microsecond. */
const ms = (value: number) => Math.round(value * 1000) / 1000;

/**
 * One camera's loop: frames → preprocess → model → rules → mask → delivery, one frame in flight.
 * Backpressure is explicit and counted: a streaming camera keeps only the newest frame (older ones are
 * skipped and counted); folder drops and triggers are lossless through a bounded queue that refuses
 * (QUEUE_FULL, counted) when full and raises an alarm before that.
 */
export class CameraWorker {
  readonly id: string;
  private readonly source: FrameSource;
  private readonly lossless: boolean;
  private readonly queue: BoundedQueue<Job>;
  private newest: Job | undefined;
  private wake: (() => void) | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Prepared (or being prepared) frames, oldest first; one is being preprocessed at most. */
  private readonly ahead: Array<Promise<Prepared>> = [];
  private preparing = false;
  private readonly preview: LatestPreview;
  paused = false;
  thresholdOverride: number | undefined;
  /** The inspector-wide rules (live configuration may replace them); a camera's own `decide` wins. */
  decideRules: DecideConfig;
  framesSkipped = 0;
  readonly counts = { pass: 0, reject: 0, hold: 0, errors: 0 };
  lastVerdict: Verdict | undefined;

  constructor(private readonly deps: CameraWorkerDeps) {
    const { camera } = deps;
    this.id = camera.id;
    this.decideRules = deps.decideRules;
    this.preview = new LatestPreview({ renderer: deps.previews, log: deps.log, now: () => this.now() });
    const triggered = camera.trigger?.enabled === true;
    // folder drops and hardware-triggered GenICam frames are parts: none may be skipped for a newer one
    this.lossless = (camera.source.type === 'folder' && !camera.source.replay) || (camera.source.type === 'genicam' && camera.source.acquisition.mode === 'hardware');
    this.queue = new BoundedQueue(camera.trigger?.queueSize ?? 64, camera.trigger?.alarmAt ?? 0.8);
    this.source = deps.createSource({
      freeRunning: !triggered,
      onFrame: (frame) => this.offer(frame),
      log: deps.log.child({ stage: 'source' }),
    });
  }

  get config(): CameraConfig {
    return this.deps.camera;
  }

  get triggerMode(): boolean {
    return this.deps.camera.trigger?.enabled === true;
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  get queueAlarm(): boolean {
    return this.queue.alarm;
  }

  health() {
    return this.source.health();
  }

  async start(): Promise<void> {
    this.running = true;
    this.loop = this.run();
    await this.source.start();
  }

  async stop(reason = 'stopping'): Promise<void> {
    this.running = false;
    await this.source.stop(reason);
    this.wake?.();
    await this.loop;
    const leftovers = [...this.queue.drain(), ...(this.newest ? [this.newest] : [])];
    this.newest = undefined;
    for (const job of leftovers) job.settle(undefined, new Error(`camera ${this.id} stopped before the frame was inspected`));
  }

  /** Capture and inspect one frame now (trigger or snapshot command); resolves with its verdict. */
  inspectNow(partId?: string): Promise<Verdict> {
    return new Promise<Verdict>((resolve, reject) => {
      this.enqueue({
        ...(partId !== undefined ? { partId } : {}),
        enqueuedAt: this.now(),
        settle: (verdict, error) => (verdict ? resolve(verdict) : reject(error)),
      });
    });
  }

  /** Called by the source for each frame it produced (free-running). */
  private offer(frame: Frame): Promise<void> {
    if (this.paused) {
      this.framesSkipped += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      // The promise tells lossless sources where the input goes: processed/ once its verdict is durable,
      // failed/ when the frame itself was bad or the verdict could not be made durable.
      const settle = (verdict: Verdict | undefined, error?: unknown) => {
        if (error) reject(error);
        else if (verdict?.basis === 'frame-error') reject(new LookoutError(verdict.error?.code as ErrorCode ?? 'FRAME_CORRUPT', verdict.error?.message ?? 'bad frame'));
        else resolve();
      };
      const job: Job = { frame, enqueuedAt: this.now(), settle };
      if (this.lossless) {
        this.enqueue(job);
        return;
      }
      if (this.newest) {
        this.framesSkipped += 1;
        this.newest.settle(undefined);
      }
      this.newest = job;
      this.pump();
      this.wake?.();
    });
  }

  private enqueue(job: Job): void {
    try {
      this.queue.push(job);
    } catch (err) {
      // QUEUE_FULL goes back to the caller, who reports it (HTTP audit, MQTT trigger, folder hand-off)
      // and the queue counts it: one log line per refusal, not two.
      job.settle(undefined, err);
      return;
    }
    if (this.queue.alarm) this.deps.log.warn({ depth: this.queue.depth, capacity: this.queue.capacity }, 'inspection queue alarm');
    this.pump();
    this.wake?.();
  }

  private next(): Job | undefined {
    const queued = this.queue.shift();
    if (queued) return queued;
    const newest = this.newest;
    this.newest = undefined;
    return newest;
  }

  /**
   * Starts preparing the next job when the preprocessor is free and fewer than the allowed frames are
   * ahead: one sharp job per camera at a time, each started the moment the previous one is done.
   */
  private pump(): void {
    if (!this.running || this.preparing) return;
    if (this.ahead.length >= (this.queue.depth > 0 ? QUEUED_AHEAD : NEWEST_AHEAD)) return;
    const job = this.next();
    if (!job) return;
    this.preparing = true;
    this.ahead.push(
      this.prepare(job).finally(() => {
        this.preparing = false;
        this.pump();
      }),
    );
  }

  /**
   * Two stages per camera: while a frame is inferred, decided and delivered, the next ones are
   * captured and preprocessed (sharp decodes on libuv's threads; see pump()). Still one inference in
   * flight per camera; frames prepared ahead are finished even when the worker stops.
   */
  private async run(): Promise<void> {
    while (this.running || this.ahead.length > 0) {
      this.pump();
      const current = this.ahead.shift();
      if (!current) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const prepared = await current;
      this.pump();
      try {
        prepared.job.settle(await this.finish(prepared));
      } catch (err) {
        // Delivery failed (outbox not writable): the frame is not accepted; the source keeps its input.
        this.counts.errors += 1;
        this.deps.log.error({ err: toLookoutError(err).toJSON() }, 'verdict could not be made durable');
        prepared.job.settle(undefined, err);
      }
    }
  }

  /** Capture (for triggers) and preprocessing. Never rejects: failures become the decision input. */
  private async prepare(job: Job): Promise<Prepared> {
    const timings: StageTimings = {};
    const startedAt = this.now();
    const t0 = performance.now();
    timings.queueMs = startedAt - job.enqueuedAt;

    let frame = job.frame;
    let input: DecisionInput | undefined;
    let image: PreprocessedFrame | undefined;
    if (!frame) {
      try {
        const t = performance.now();
        frame = await this.source.capture(job.partId);
        timings.captureMs = ms(performance.now() - t);
      } catch (err) {
        input = { kind: 'frame-error', error: toLookoutError(err, 'SOURCE_UNAVAILABLE') };
      }
    }
    if (frame && !input) {
      const t = performance.now();
      try {
        image = await this.deps.preprocessor.run(frame);
      } catch (err) {
        input = { kind: 'frame-error', error: toLookoutError(err, 'FRAME_CORRUPT') };
      }
      timings.preprocessMs = ms(performance.now() - t);
    }
    return { job, timings, startedAt, t0, ...(frame ? { frame } : {}), ...(image ? { image } : {}), ...(input ? { input } : {}) };
  }

  /** Inference, rules, mask and durable delivery of a prepared frame. */
  private async finish(prepared: Prepared): Promise<Verdict> {
    const { log, stats } = this.deps;
    const { job, timings, startedAt, t0, frame, image } = prepared;
    let input = prepared.input;
    const frameId = frame?.id ?? `${this.id}-${startedAt}-capture-failed`;
    // built only when something is logged (a pino child per frame is measurable at 100 frames/s)
    const flog = () => log.child({ frameId, ...(job.partId ? { partId: job.partId } : {}) });

    const lease = this.deps.model.acquire();
    let result: DetectResult | undefined;
    try {
      if (image && !input) {
        const t = performance.now();
        try {
          result = await this.deps.inference.detect(lease.component, image, { wantMask: true });
          input = { kind: 'result', result };
        } catch (err) {
          const error = toLookoutError(err, 'INFERENCE_FAILED');
          this.deps.model.reportFailure(error);
          input = { kind: error.code === 'INFERENCE_INVALID_ARGUMENT' ? 'frame-error' : 'model-error', error };
        }
        timings.inferenceMs = ms(performance.now() - t);
      }
    } finally {
      lease.release();
    }

    const t = performance.now();
    const decision = decide(input!, { ...this.decideRules, ...this.deps.camera.decide }, {
      ...(this.thresholdOverride !== undefined ? { thresholdOverride: this.thresholdOverride } : {}),
    });
    timings.decideMs = ms(performance.now() - t);

    let mask: SavedMask | undefined;
    if (result?.mask && decision.isAnomalous) {
      const tm = performance.now();
      try {
        mask = await this.deps.masks.save({ verdictId: frameId, cameraId: this.id, mask: result.mask, ...(image ? { frame: image } : {}), classes: decision.anomalies });
      } catch (err) {
        flog().warn({ err: toLookoutError(err).toJSON() }, 'mask not saved');
      }
      timings.maskMs = ms(performance.now() - tm);
    }

    const decidedAt = this.now();
    const capturedAt = frame?.capturedAt ?? startedAt;
    timings.totalMs = ms(performance.now() - t0 + (timings.queueMs ?? 0));
    const error = input && input.kind !== 'result' ? (input.error as LookoutError) : undefined;
    const verdict: Verdict = {
      id: frameId,
      frameId,
      cameraId: this.id,
      ...(job.partId !== undefined ? { partId: job.partId } : frame?.partId !== undefined ? { partId: frame.partId } : {}),
      modelComponent: lease.component,
      outcome: decision.outcome,
      basis: decision.basis,
      isAnomalous: decision.isAnomalous,
      ...(result ? { confidence: result.confidence } : {}),
      ...(result?.anomalyScore !== undefined ? { anomalyScore: result.anomalyScore } : {}),
      ...(decision.threshold !== undefined ? { anomalyThreshold: decision.threshold } : {}),
      anomalies: decision.anomalies,
      ...(decision.reason ? { reason: decision.reason } : {}),
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
      ...(mask ? { mask: { png: mask.png, ...(mask.overlay ? { overlay: mask.overlay } : {}), bytes: mask.bytes } } : {}),
      capturedAt,
      decidedAt,
      timings,
    };

    await this.deps.sink.deliver(verdict, mask?.pngBytes ? { png: mask.pngBytes } : undefined);

    this.counts[verdict.outcome] += 1;
    if (error) this.counts.errors += 1;
    this.lastVerdict = verdict;
    stats.record(timings);
    if (error) flog().warn({ err: error.toJSON(), outcome: verdict.outcome }, 'frame not inspected by the model; fail-safe verdict');
    else if (log.isLevelEnabled('debug')) flog().debug({ outcome: verdict.outcome, score: verdict.anomalyScore, totalMs: timings.totalMs }, 'verdict');
    this.deps.events.emit('verdict', verdict);
    this.deps.evidence?.record({ verdict, ...(image ? { frame: image } : {}), ...(result?.mask ? { mask: result.mask } : {}) });
    if (image && this.preview.offer(image, verdict, result?.mask)) this.deps.events.emit('preview', this.id, verdict.id);
    return verdict;
  }

  /** The latest dashboard preview as a JPEG, rendered on first request. */
  latestPreview(): Promise<PreviewJpeg | undefined> {
    return this.preview.get();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
