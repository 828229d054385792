import type { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { CameraConfig, DecideConfig } from '../config/schema.js';
import type { CameraStatus } from '../core/inspector-status.js';
import { type ErrorCode, LookoutError, toLookoutError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import type { InspectorEvents } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { DetectResult } from '../core/model.js';
import type { StageTimings, Verdict } from '../core/verdict.js';
import { type DecisionInput, decide } from '../decide/rules.js';
import { buildVerdict, withSavedMask } from '../decide/verdict.js';
import type { InferenceClient } from '../inference/inference-client.js';
import type { PreprocessedFrame, Preprocessor } from '../preprocess/preprocessor.js';
import type { FrameSource, FrameSourceDeps } from '../sources/frame-source.js';
import { FrameScheduler, type Settled } from './frame-scheduler.js';
import { LatestPreview, type PreviewJpeg } from './latest-preview.js';
import type { ModelSupervisor } from './model-supervisor.js';
import type { Inspection, MaskSink, PreviewRenderer, SavedMask, VerdictSink } from './ports.js';
import type { StageStats } from './stage-stats.js';
import { runSinksForBatch, signalSinks } from './verdict-sinks.js';

export interface CameraWorkerDeps {
  readonly camera: CameraConfig;
  readonly decideRules: DecideConfig;
  readonly createSource: (deps: FrameSourceDeps) => FrameSource;
  readonly preprocessor: Preprocessor;
  readonly inference: InferenceClient;
  readonly model: ModelSupervisor;
  readonly masks: MaskSink;
  readonly previews: PreviewRenderer;
  /** What happens to every verdict: fast sinks (reject signal, PLC outputs) at once, then the others in order (outbox, outputs, evidence); the camera's counters and preview follow. */
  readonly sinks: readonly VerdictSink[];
  readonly events: EventEmitter<InspectorEvents>;
  readonly stats: StageStats;
  readonly log: Logger;
  readonly now?: () => number;
  /** Frames preprocessed at once (default: one per core). */
  readonly maxPreparing?: number;
}

/** A unit of work: a frame that arrived, or a request to capture one (trigger, snapshot command). */
interface Job {
  readonly frame?: Frame;
  readonly partId?: string;
  readonly enqueuedAt: number;
  settle(result: Verdict | undefined, error?: unknown): void;
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

/** Stage durations to the microsecond. */
const ms = (value: number) => Math.round(value * 1000) / 1000;

/**
 * One camera: its source, its frame scheduler (frame-scheduler.ts: which frames are prepared, how many
 * ahead, in what order they finish) and what a frame goes through: capture and preprocessing (prepare),
 * the model and the rules (inspect), then the verdict's sinks (deliver). Backpressure is explicit and
 * counted: a streaming camera keeps only the newest frame; folder drops and triggers are lossless through
 * a bounded queue that refuses (QUEUE_FULL, counted) when full and raises an alarm before that.
 */
export class CameraWorker {
  readonly id: string;
  private readonly source: FrameSource;
  private readonly lossless: boolean;
  private readonly scheduler: FrameScheduler<Job, Prepared, Inspection, Verdict>;
  private readonly preview: LatestPreview;
  /** Called the moment a verdict exists (VerdictSink.fast). */
  private readonly fastSinks: readonly VerdictSink[];
  /** Run one verdict at a time, after the fast ones. */
  private readonly sinks: readonly VerdictSink[];
  /** Bytes of the preprocessed image when the configuration does not fix the model's input size (the last one seen). */
  private imageBytes = 0;
  private paused = false;
  private pausedSkips = 0;
  private thresholdOverride: number | undefined;
  /** The inspector-wide rules (live configuration may replace them); a camera's own `decide` wins. */
  private decideRules: DecideConfig;
  private readonly counts = { pass: 0, reject: 0, hold: 0, errors: 0 };
  private lastVerdict: Verdict | undefined;

  constructor(private readonly deps: CameraWorkerDeps) {
    const { camera } = deps;
    this.id = camera.id;
    this.decideRules = deps.decideRules;
    this.preview = new LatestPreview({ renderer: deps.previews, log: deps.log, now: () => this.now() });
    const triggered = camera.trigger?.enabled === true;
    // folder drops and hardware-triggered GenICam frames are parts: none may be skipped for a newer one
    this.lossless = (camera.source.type === 'folder' && !camera.source.replay) || (camera.source.type === 'genicam' && camera.source.acquisition.mode === 'hardware');
    const maxPreparing = Math.max(1, deps.maxPreparing ?? availableParallelism());
    this.scheduler = new FrameScheduler(
      {
        bytesOf: (job) => this.bytesOf(job),
        prepare: (job) => this.prepare(job),
        inspect: (p) => this.inspect(p),
        signal: (i) => signalSinks(this.fastSinks, i, this.deps.log),
        deliver: (i) => this.deliver(i),
      },
      { queueSize: camera.trigger?.queueSize ?? 64, alarmAt: camera.trigger?.alarmAt ?? 0.8, prefetchBytes: camera.prefetchBytes, maxPreparing },
    );
    this.fastSinks = deps.sinks.filter((s) => s.fast === true);
    this.sinks = [...deps.sinks.filter((s) => s.fast !== true), this.countersSink(), this.previewSink()];
    this.source = deps.createSource({
      freeRunning: !triggered,
      onFrame: (frame) => this.offer(frame),
      // being prepared and as many ready to start in their place, at the model, and being delivered or
      // moved: a lossless source hands over its next input before a preparation slot is free
      lookahead: 2 * maxPreparing + 2,
      log: deps.log.child({ stage: 'source' }),
    });
  }

  get config(): CameraConfig {
    return this.deps.camera;
  }

  get triggerMode(): boolean {
    return this.deps.camera.trigger?.enabled === true;
  }

  /** Fired by its own line: a trigger announces a part id instead of capturing. */
  get takesPartIds(): boolean {
    return this.source.announcePart !== undefined;
  }

  async start(): Promise<void> {
    this.scheduler.start();
    await this.source.start();
  }

  /** Stops the source (frames it handed over are finished), then the scheduler (waiting triggers are refused). */
  async stop(reason = 'stopping'): Promise<void> {
    await this.source.stop(reason);
    await this.scheduler.stop(new Error(`camera ${this.id} stopped before the frame was inspected`));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** A remote `set-threshold` for this camera; undefined clears it. */
  setThreshold(threshold: number | undefined): void {
    this.thresholdOverride = threshold;
  }

  /** New inspector-wide rules (live configuration); the camera's own `decide` keys still win. */
  setDecideRules(rules: DecideConfig): void {
    this.decideRules = rules;
  }

  status(): CameraStatus {
    const h = this.source.health();
    return {
      id: this.id,
      paused: this.paused,
      triggerMode: this.triggerMode,
      source: {
        state: h.state,
        fps: h.fps,
        framesTotal: h.framesTotal,
        framesDropped: h.framesDropped,
        reconnectsLastHour: h.reconnectsLastHour,
        stallsLastHour: h.stallsLastHour,
        grade: h.grade,
        ...(h.lastError ? { lastError: h.lastError } : {}),
        ...(h.counters ? { counters: h.counters } : {}),
      },
      framesSkipped: this.scheduler.skipped + this.pausedSkips,
      triggerQueueDepth: this.scheduler.queueDepth,
      counts: { ...this.counts },
      ...(this.lastVerdict ? { lastVerdict: this.lastVerdict } : {}),
      ...(this.thresholdOverride !== undefined ? { thresholdOverride: this.thresholdOverride } : {}),
    };
  }

  /** Capture and inspect one frame now (trigger or snapshot command); resolves with its verdict. */
  inspectNow(partId?: string): Promise<Verdict> {
    if (this.source.announcePart) {
      if (partId === undefined) return Promise.reject(new LookoutError('COMMAND_INVALID', `camera ${this.id} is fired by its own line: a trigger for it must carry the part's id`));
      return this.source.announcePart(partId) as Promise<Verdict>; // offer() resolves with the verdict
    }
    return new Promise<Verdict>((resolve, reject) => {
      this.enqueue({
        ...(partId !== undefined ? { partId } : {}),
        enqueuedAt: this.now(),
        settle: (verdict, error) => (verdict ? resolve(verdict) : reject(error)),
      });
    });
  }

  /** The latest dashboard preview as a JPEG, rendered on first request. */
  latestPreview(): Promise<PreviewJpeg | undefined> {
    return this.preview.get();
  }

  /** Called by the source for each frame it produced (free-running). */
  private offer(frame: Frame): Promise<Verdict | undefined> {
    if (this.paused) {
      this.pausedSkips += 1;
      return Promise.resolve(undefined);
    }
    return new Promise<Verdict | undefined>((resolve, reject) => {
      // The promise tells lossless sources where the input goes: processed/ once its verdict is durable,
      // failed/ when the frame itself was bad or the verdict could not be made durable.
      const settle = (verdict: Verdict | undefined, error?: unknown) => {
        if (error) reject(error);
        else if (verdict?.basis === 'frame-error') reject(new LookoutError((verdict.error?.code as ErrorCode) ?? 'FRAME_CORRUPT', verdict.error?.message ?? 'bad frame'));
        else resolve(verdict);
      };
      const job: Job = { frame, enqueuedAt: this.now(), settle };
      if (this.lossless) this.enqueue(job);
      else this.scheduler.offer(job);
    });
  }

  private enqueue(job: Job): void {
    // QUEUE_FULL goes back to the caller, who reports it (HTTP audit, MQTT trigger, folder hand-off)
    // and the queue counts it: one log line per refusal, not two.
    this.scheduler.enqueue(job);
    if (this.scheduler.alarm) this.deps.log.warn({ depth: this.scheduler.queueDepth, capacity: this.scheduler.queueCapacity }, 'inspection queue alarm');
  }

  /** What a job holds while in flight: its frame, and its preprocessed image (known from the configuration, or the last one's). */
  private bytesOf(job: Job): number {
    const data = job.frame?.data;
    const frameBytes = data ? (data.kind === 'encoded' ? data.bytes.length : data.pixels.length) : 0;
    const { width, height } = this.deps.camera.preprocess;
    return frameBytes + (width !== undefined && height !== undefined ? width * height * 3 : this.imageBytes);
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
        this.imageBytes = image.pixels.length;
      } catch (err) {
        input = { kind: 'frame-error', error: toLookoutError(err, 'FRAME_CORRUPT') };
      }
      timings.preprocessMs = ms(performance.now() - t);
    }
    return { job, timings, startedAt, t0, ...(frame ? { frame } : {}), ...(image ? { image } : {}), ...(input ? { input } : {}) };
  }

  /** The model, the rules and the mask: the verdict of a prepared frame. */
  private async inspect(prepared: Prepared): Promise<Inspection> {
    const { job, timings, startedAt, t0, frame, image } = prepared;
    let input = prepared.input;
    const frameId = frame?.id ?? `${this.id}-${startedAt}-capture-failed`;

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

    timings.totalMs = ms(performance.now() - t0 + (timings.queueMs ?? 0));
    const partId = job.partId ?? frame?.partId;
    const verdict = buildVerdict({
      frameId,
      cameraId: this.id,
      ...(partId !== undefined ? { partId } : {}),
      modelComponent: lease.component,
      decision,
      ...(result ? { result } : {}),
      ...(input && input.kind !== 'result' ? { error: input.error } : {}),
      capturedAt: frame?.capturedAt ?? startedAt,
      decidedAt: this.now(),
      timings,
    });
    return { verdict, ...(image ? { frame: image } : {}), ...(result?.mask ? { mask: result.mask } : {}) };
  }

  /**
   * A batch of verdicts (see FrameScheduler): each one's mask saved, then the delivering sinks in order.
   * A verdict a required sink (the outbox) refused is not accepted: the source keeps its input.
   */
  private async deliver(batch: readonly Inspection[]): Promise<Array<Settled<Verdict>>> {
    const inspections: Inspection[] = [];
    for (const inspected of batch) inspections.push(await this.saveMask(inspected)); // one at a time: the store does so anyway
    const failures = await runSinksForBatch(this.sinks, inspections, this.deps.log);
    return inspections.map(({ verdict }, k) => {
      const failure = failures[k];
      if (!failure) return { ok: true, value: verdict };
      this.counts.errors += 1;
      this.deps.log.error({ frameId: verdict.frameId, err: toLookoutError(failure.error).toJSON() }, 'verdict could not be made durable');
      return { ok: false, error: failure.error };
    });
  }

  /**
   * Saves an anomalous verdict's mask (PNG and overlay) and adds its files to the verdict. It is the first
   * step of delivery, not part of inspect: the reject signal never waits for a mask's encoding or its disk.
   * A mask that cannot be saved is logged; the verdict goes on without it.
   */
  private async saveMask(inspection: Inspection): Promise<Inspection> {
    const { verdict, mask, frame } = inspection;
    if (!mask || !verdict.isAnomalous) return inspection;
    const t = performance.now();
    let saved: SavedMask | undefined;
    try {
      saved = await this.deps.masks.save({ verdictId: verdict.frameId, cameraId: this.id, mask, ...(frame ? { frame } : {}), classes: verdict.anomalies });
    } catch (err) {
      this.deps.log.child({ frameId: verdict.frameId }).warn({ err: toLookoutError(err).toJSON() }, 'mask not saved');
    }
    return {
      ...inspection,
      verdict: withSavedMask(verdict, saved, ms(performance.now() - t)),
      ...(saved ? { maskPng: saved.pngBytes } : {}),
    };
  }

  /** Counters, stage latencies, the log line and the `verdict` event. */
  private countersSink(): VerdictSink {
    return {
      name: 'counters',
      accept: ({ verdict }) => {
        const { log, stats } = this.deps;
        this.counts[verdict.outcome] += 1;
        if (verdict.error) this.counts.errors += 1;
        this.lastVerdict = verdict;
        stats.record(verdict.timings);
        // a child logger is built only when something is logged (one per frame is measurable at 100 frames/s)
        const flog = () => log.child({ frameId: verdict.frameId, ...(verdict.partId ? { partId: verdict.partId } : {}) });
        if (verdict.error) flog().warn({ err: verdict.error, outcome: verdict.outcome }, 'frame not inspected by the model; fail-safe verdict');
        else if (log.isLevelEnabled('debug')) flog().debug({ outcome: verdict.outcome, score: verdict.anomalyScore, totalMs: verdict.timings.totalMs }, 'verdict');
        this.deps.events.emit('verdict', verdict);
      },
    };
  }

  /** The dashboard preview: kept when one is due, rendered only on request. */
  private previewSink(): VerdictSink {
    return {
      name: 'preview',
      accept: ({ verdict, frame, mask }) => {
        if (frame && this.preview.offer(frame, verdict, mask)) this.deps.events.emit('preview', this.id, verdict.id);
      },
    };
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
