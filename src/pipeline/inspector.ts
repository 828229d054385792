import { EventEmitter } from 'node:events';
import type { CameraConfig, DecideConfig } from '../config/schema.js';
import { LookoutError } from '../core/errors.js';
import { PART_ID_PATTERN, PART_ID_RULE } from '../core/frame.js';
import type { CameraStatus, EvidenceStatus, InspectorControl, InspectorEvents, InspectorStatus, PlcStatus } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import type { InferenceClient } from '../inference/inference-client.js';
import type { OutboxStats } from '../outbox/outbox.js';
import type { Preprocessor } from '../preprocess/preprocessor.js';
import type { FrameSource, FrameSourceDeps } from '../sources/frame-source.js';
import { CameraWorker } from './camera-worker.js';
import type { ModelSupervisor } from './model-supervisor.js';
import type { MaskSink, PreviewRenderer, VerdictSink } from './ports.js';
import { StageStats } from './stage-stats.js';

export interface InspectorDeps {
  readonly thingName: string;
  readonly cameras: readonly CameraConfig[];
  readonly decideRules: DecideConfig;
  readonly createSource: (camera: CameraConfig, deps: FrameSourceDeps) => FrameSource;
  readonly createPreprocessor: (camera: CameraConfig) => Preprocessor;
  readonly inference: InferenceClient;
  readonly model: ModelSupervisor;
  readonly masks: MaskSink;
  readonly previews: PreviewRenderer;
  /** What happens to every verdict, in order: the reject signal, the outbox, outputs, evidence (each camera's counters and preview follow). */
  readonly sinks: readonly VerdictSink[];
  readonly outboxStats: () => OutboxStats;
  /** Last errors of parts outside the pipeline (delivery), merged into status().lastErrors. */
  readonly partErrors?: () => Record<string, { code: string; message: string; at: number }>;
  /** The PLC clients' counters by protocol, shown as status().plc (none without a PLC). */
  readonly plcStats?: () => Readonly<Record<string, PlcStatus>>;
  /** The evidence store's counters, shown as status().evidence (none when evidence is off). */
  readonly evidenceStats?: () => EvidenceStatus;
  readonly log: Logger;
}

/**
 * The inspector: one worker per enabled camera around one model supervisor. Implements the control
 * surface that remote commands, HTTP triggers and the status page use. A failing camera never stops
 * the others: each worker owns its source, its state machine and its errors.
 */
export class Inspector implements InspectorControl {
  readonly events = new EventEmitter<InspectorEvents>();
  readonly stats = new StageStats();
  private readonly workers = new Map<string, CameraWorker>();
  private readonly startedAt = Date.now();
  private decideRules: DecideConfig;

  constructor(private readonly deps: InspectorDeps) {
    this.decideRules = deps.decideRules;
    for (const camera of deps.cameras.filter((c) => c.enabled)) this.addCamera(camera);
  }

  async start(): Promise<void> {
    void this.deps.model.ensure();
    await Promise.all([...this.workers.values()].map((w) => w.start()));
    this.deps.log.info({ cameras: [...this.workers.keys()], model: this.deps.model.component }, 'inspector started');
  }

  async stop(reason = 'stopping'): Promise<void> {
    this.deps.model.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop(reason)));
    this.deps.log.info({ reason }, 'inspector stopped');
  }

  /** Replaces cameras whose configuration changed (live configuration); others keep running. */
  async applyCameras(next: readonly CameraConfig[]): Promise<void> {
    const wanted = new Map(next.filter((c) => c.enabled).map((c) => [c.id, c]));
    for (const [id, worker] of this.workers) {
      const cfg = wanted.get(id);
      if (!cfg || JSON.stringify(cfg) !== JSON.stringify(worker.config)) {
        await worker.stop('configuration changed');
        this.workers.delete(id);
      }
    }
    for (const [id, cfg] of wanted) {
      if (!this.workers.has(id)) await this.addCamera(cfg).start();
    }
  }

  /** New inspector-wide verdict rules (live configuration); cameras with their own rules keep them. */
  applyDecide(rules: DecideConfig): void {
    this.decideRules = rules;
    for (const w of this.workers.values()) w.setDecideRules(rules);
  }

  setThreshold(cameraId: string, threshold: number | null): void {
    if (threshold !== null && !(threshold >= 0 && threshold <= 1)) {
      throw new LookoutError('COMMAND_INVALID', 'threshold must be a number in [0,1], or null to clear it');
    }
    const targets = cameraId === '*' ? [...this.workers.values()] : [this.worker(cameraId)];
    for (const w of targets) w.setThreshold(threshold ?? undefined);
  }

  pauseCamera(cameraId: string): void {
    this.worker(cameraId).pause();
  }

  resumeCamera(cameraId: string): void {
    this.worker(cameraId).resume();
  }

  /** Whether MQTT triggers for this camera are served: it runs and takes triggers, or part ids for its line's frames. */
  acceptsTriggers(cameraId: string): boolean {
    const worker = this.workers.get(cameraId);
    return worker?.config.trigger?.enabled === true || worker?.takesPartIds === true;
  }

  inspectNow(cameraId: string, partId?: string): Promise<Verdict> {
    if (partId !== undefined && !PART_ID_PATTERN.test(partId)) {
      return Promise.reject(new LookoutError('COMMAND_INVALID', PART_ID_RULE));
    }
    return this.worker(cameraId).inspectNow(partId);
  }

  reloadModel(): Promise<{ component: string; status: string }> {
    return this.deps.model.reload();
  }

  /** Model rollout: start the new model, move traffic once it is RUNNING, then stop the old one. */
  switchModel(component: string): Promise<void> {
    return this.deps.model.switchTo(component);
  }

  latestPreview(cameraId: string): Promise<{ jpeg: Buffer; verdictId: string } | undefined> {
    return this.workers.get(cameraId)?.latestPreview() ?? Promise.resolve(undefined);
  }

  status(): InspectorStatus {
    const cameras: CameraStatus[] = [...this.workers.values()].map((w) => w.status());
    const outbox = this.deps.outboxStats();
    const lastErrors: Record<string, { code: string; message: string; at: number }> = {};
    for (const c of cameras) if (c.source.lastError) lastErrors[`source:${c.id}`] = c.source.lastError;
    const modelError = this.deps.model.lastError;
    if (modelError) lastErrors.inference = { code: modelError.code, message: modelError.message, at: Date.now() };
    if (outbox.lastError) lastErrors.outbox = outbox.lastError;
    Object.assign(lastErrors, this.deps.partErrors?.());
    const model = this.deps.model.status;
    const plc = this.deps.plcStats?.();
    const evidence = this.deps.evidenceStats?.();
    return {
      thingName: this.deps.thingName,
      startedAt: this.startedAt,
      now: Date.now(),
      model,
      cameras,
      latency: this.stats.summary(),
      outbox: {
        depth: outbox.depth,
        oldestAgeMs: outbox.oldestAgeMs,
        evictions: outbox.evictions,
        writable: outbox.writable,
        ...(outbox.unwritable ? { unwritable: { reason: outbox.unwritable.reason, since: outbox.unwritable.since } } : {}),
      },
      lastErrors,
      ready: {
        model: model.status === 'RUNNING',
        sources: cameras.every((c) => c.paused || c.source.grade !== 'bad'),
        outbox: outbox.writable,
      },
      ...(plc && Object.keys(plc).length > 0 ? { plc } : {}),
      ...(evidence ? { evidence } : {}),
    };
  }

  private addCamera(camera: CameraConfig): CameraWorker {
    const log = this.deps.log.child({ stage: 'camera', camera: camera.id });
    const worker = new CameraWorker({
      camera,
      decideRules: this.decideRules,
      createSource: (deps) => this.deps.createSource(camera, deps),
      preprocessor: this.deps.createPreprocessor(camera),
      inference: this.deps.inference,
      model: this.deps.model,
      masks: this.deps.masks,
      previews: this.deps.previews,
      sinks: this.deps.sinks,
      events: this.events,
      stats: this.stats,
      log,
    });
    this.workers.set(camera.id, worker);
    return worker;
  }

  private worker(cameraId: string): CameraWorker {
    const worker = this.workers.get(cameraId);
    if (!worker) throw new LookoutError('COMMAND_INVALID', `no camera "${cameraId}"`);
    return worker;
  }
}
