import { EventEmitter } from 'node:events';
import sharp from 'sharp';
import { LookoutError } from '../../src/core/errors.js';
import type { CameraStatus, EvidenceStatus, InspectorControl, InspectorEvents, InspectorStatus, PlcStatus } from '../../src/core/inspector-status.js';
import type { Verdict, VerdictOutcome } from '../../src/core/verdict.js';

/**
 * An in-memory inspector for the operator-surface tests: the real pipeline is a peer built elsewhere.
 * It keeps honest state (counts, last verdict, paused, overrides), validates input like the real one
 * must, emits the same events, and serves real JPEG previews. Nothing here is a stub of our own code.
 */

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
type ModelState = InspectorStatus['model']['status'];

export interface FakeCall {
  readonly method: keyof InspectorControl;
  readonly args: readonly unknown[];
}

const previewCache = new Map<VerdictOutcome, Promise<Buffer>>();

/** A 320x240 grey "part" with, for a reject, a red defect blob overlaid (what a mask overlay looks like). */
function previewJpeg(outcome: VerdictOutcome): Promise<Buffer> {
  let p = previewCache.get(outcome);
  if (!p) {
    const part = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="#3a3f44"/>` +
        `<rect x="60" y="50" width="200" height="140" rx="18" fill="#b8bec4"/>` +
        (outcome === 'reject' ? `<circle cx="200" cy="100" r="26" fill="#ff2020" fill-opacity="0.7"/>` : '') +
        `</svg>`,
    );
    p = sharp(part).jpeg({ quality: 80 }).toBuffer();
    previewCache.set(outcome, p);
  }
  return p;
}

export class FakeInspector implements InspectorControl {
  readonly events = new EventEmitter<InspectorEvents>();
  readonly calls: FakeCall[] = [];
  readonly model: Mutable<InspectorStatus['model']> = { component: 'widget-model', status: 'RUNNING' };
  readonly outbox: Mutable<InspectorStatus['outbox']> = { depth: 0, oldestAgeMs: null, evictions: 0, writable: true };
  readonly lastErrors: Record<string, { code: string; message: string; at: number }> = {};
  /** The PLC counters status() shows (a test's real PLC clients), none when unset. */
  plcStats: (() => Record<string, PlcStatus>) | undefined;
  /** The evidence counters status() shows (a test's real evidence store), none when unset. */
  evidenceStats: (() => EvidenceStatus) | undefined;
  /** What inspectNow decides next, and how long it takes. */
  nextOutcome: VerdictOutcome = 'pass';
  inspectDelayMs = 0;
  private readonly cameras = new Map<string, Mutable<CameraStatus>>();
  private readonly previews = new Map<string, { jpeg: Buffer; verdictId: string }>();
  private seq = 0;
  private readonly startedAt = Date.now();

  constructor(cameraIds: readonly string[] = ['cam1']) {
    for (const id of cameraIds) {
      this.cameras.set(id, {
        id,
        paused: false,
        triggerMode: false,
        source: { state: 'streaming', fps: 2, framesTotal: 0, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, grade: 'good' },
        framesSkipped: 0,
        triggerQueueDepth: 0,
        counts: { pass: 0, reject: 0, hold: 0, errors: 0 },
      });
    }
  }

  camera(id: string): Mutable<CameraStatus> {
    const cam = this.cameras.get(id);
    if (!cam) throw new LookoutError('COMMAND_INVALID', `unknown camera ${JSON.stringify(id)}`);
    return cam;
  }

  setModelStatus(status: ModelState, statusMessage?: string): void {
    this.model.status = status;
    this.model.statusMessage = statusMessage;
  }

  /** Records a verdict as the pipeline would: counts, last verdict, preview, then the two events. */
  async emitVerdict(cameraId: string, outcome: VerdictOutcome, extra: Partial<Mutable<Verdict>> = {}): Promise<Verdict> {
    const cam = this.camera(cameraId);
    const now = Date.now();
    this.seq += 1;
    const score = outcome === 'reject' ? 0.91 : outcome === 'hold' ? 0.5 : 0.08;
    const verdict: Verdict = {
      id: `v-${cameraId}-${this.seq}`,
      frameId: `f-${cameraId}-${this.seq}`,
      cameraId,
      modelComponent: this.model.component,
      outcome,
      basis: 'model',
      isAnomalous: outcome === 'reject',
      confidence: 0.93,
      anomalyScore: score,
      anomalyThreshold: cam.thresholdOverride ?? 0.5,
      anomalies: outcome === 'reject' ? [{ name: 'scratch', totalPercentageArea: 0.031, hexColor: '#ff2020' }] : [],
      capturedAt: now - 40,
      decidedAt: now,
      timings: { captureMs: 3, preprocessMs: 6, inferenceMs: 22, decideMs: 1, totalMs: 35 },
      ...(outcome === 'reject' ? { mask: { png: `${cameraId}/${this.seq}.png`, bytes: 1234 } } : {}),
      ...extra,
    };
    // Render first, then update everything at once, so a snapshot never names a verdict without its preview.
    const jpeg = await previewJpeg(outcome);
    cam.counts[outcome] += 1;
    cam.source.framesTotal += 1;
    cam.lastVerdict = verdict;
    this.previews.set(cameraId, { jpeg, verdictId: verdict.id });
    this.events.emit('verdict', verdict);
    this.events.emit('preview', cameraId, verdict.id);
    return verdict;
  }

  setThreshold(cameraId: string, threshold: number | null): void {
    this.calls.push({ method: 'setThreshold', args: [cameraId, threshold] });
    if (threshold !== null && !(threshold >= 0 && threshold <= 1)) throw new LookoutError('COMMAND_INVALID', 'threshold must be in [0,1]');
    const targets = cameraId === '*' ? [...this.cameras.values()] : [this.camera(cameraId)];
    for (const cam of targets) cam.thresholdOverride = threshold ?? undefined;
  }

  pauseCamera(cameraId: string): void {
    this.calls.push({ method: 'pauseCamera', args: [cameraId] });
    this.camera(cameraId).paused = true;
  }

  resumeCamera(cameraId: string): void {
    this.calls.push({ method: 'resumeCamera', args: [cameraId] });
    this.camera(cameraId).paused = false;
  }

  async inspectNow(cameraId: string, partId?: string): Promise<Verdict> {
    this.calls.push({ method: 'inspectNow', args: [cameraId, partId] });
    this.camera(cameraId);
    if (this.model.status !== 'RUNNING') throw new LookoutError('MODEL_NOT_RUNNING', `model is ${this.model.status}`);
    if (this.inspectDelayMs > 0) await new Promise((r) => setTimeout(r, this.inspectDelayMs));
    return this.emitVerdict(cameraId, this.nextOutcome, partId === undefined ? {} : { partId });
  }

  async reloadModel(): Promise<{ component: string; status: string }> {
    this.calls.push({ method: 'reloadModel', args: [] });
    this.model.status = 'RUNNING';
    return { component: this.model.component, status: this.model.status };
  }

  status(): InspectorStatus {
    const cameras = [...this.cameras.values()];
    const modelOk = this.model.status === 'RUNNING';
    return structuredClone({
      thingName: 'line-7-station-2',
      startedAt: this.startedAt,
      now: Date.now(),
      model: this.model,
      cameras,
      latency: { total: { p50: 30, p90: 41, p99: 60, count: this.seq } },
      outbox: this.outbox,
      lastErrors: this.lastErrors,
      ready: { model: modelOk, sources: cameras.every((c) => c.source.grade !== 'bad'), outbox: this.outbox.writable },
      ...(this.plcStats ? { plc: this.plcStats() } : {}),
      ...(this.evidenceStats ? { evidence: this.evidenceStats() } : {}),
    });
  }

  async latestPreview(cameraId: string): Promise<{ jpeg: Buffer; verdictId: string } | undefined> {
    return this.previews.get(cameraId);
  }
}
