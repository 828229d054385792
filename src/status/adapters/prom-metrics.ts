import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InspectorStatus } from '../../core/inspector-status.js';
import { STAGE_TIMINGS, type StatusMetrics } from '../metrics.js';

const GRADES = ['good', 'degraded', 'bad'] as const;
const OUTCOMES = ['pass', 'reject', 'hold'] as const;
const PLC_WRITE_RESULTS = ['written', 'retried', 'refused', 'dropped', 'expired'] as const;

/** prom-client behind the StatusMetrics interface; one private registry per server (no global state). */
export function createPromMetrics(options: { defaultMetrics?: boolean } = {}): StatusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };

  const stageDuration = new Histogram({
    name: 'lookout_edge_stage_duration_seconds',
    help: 'Time a frame spent in each pipeline stage.',
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ...reg,
  });
  const verdicts = new Counter({ name: 'lookout_edge_verdicts_total', help: 'Verdicts by camera and outcome.', labelNames: ['camera', 'outcome'] as const, ...reg });
  const frameErrors = new Counter({ name: 'lookout_edge_frame_errors_total', help: 'Frames that failed in the pipeline (fail-safe verdicts).', labelNames: ['camera'] as const, ...reg });
  const framesTotal = new Counter({ name: 'lookout_edge_frames_total', help: 'Frames delivered by each camera source.', labelNames: ['camera'] as const, ...reg });
  const framesDropped = new Counter({
    name: 'lookout_edge_frames_dropped_total',
    help: 'Frames dropped: by the source, or skipped by the pipeline for backpressure.',
    labelNames: ['camera', 'reason'] as const,
    ...reg,
  });
  const sourceEvents = new Counter({
    name: 'lookout_edge_source_events_total',
    help: "A source's own counters by camera and event (GenICam: incompleteFrames, resentPackets, missingPackets, underruns, triggeredFramesRefused).",
    labelNames: ['camera', 'event'] as const,
    ...reg,
  });
  const fps = new Gauge({ name: 'lookout_edge_camera_fps', help: 'Frames per second delivered by each camera.', labelNames: ['camera'] as const, ...reg });
  const health = new Gauge({ name: 'lookout_edge_camera_health', help: '1 for the camera\'s current health grade, 0 for the others.', labelNames: ['camera', 'grade'] as const, ...reg });
  const paused = new Gauge({ name: 'lookout_edge_camera_paused', help: '1 when the camera is paused.', labelNames: ['camera'] as const, ...reg });
  const reconnects = new Gauge({ name: 'lookout_edge_camera_reconnects_last_hour', help: 'Source reconnects over the last hour.', labelNames: ['camera'] as const, ...reg });
  const triggerDepth = new Gauge({ name: 'lookout_edge_trigger_queue_depth', help: 'Triggers waiting per camera.', labelNames: ['camera'] as const, ...reg });
  const threshold = new Gauge({ name: 'lookout_edge_threshold_override', help: 'Score threshold override in force per camera.', labelNames: ['camera'] as const, ...reg });
  const outboxDepth = new Gauge({ name: 'lookout_edge_outbox_depth', help: 'Messages in the outbox waiting for delivery.', ...reg });
  const outboxAge = new Gauge({ name: 'lookout_edge_outbox_oldest_age_seconds', help: 'Age of the oldest undelivered message (0 when empty).', ...reg });
  const outboxEvictions = new Counter({ name: 'lookout_edge_outbox_evictions_total', help: 'Messages evicted from the full outbox.', ...reg });
  const outboxWritable = new Gauge({ name: 'lookout_edge_outbox_writable', help: '1 when the outbox can be written.', ...reg });
  const modelRunning = new Gauge({ name: 'lookout_edge_model_running', help: '1 when the model is RUNNING.', labelNames: ['component'] as const, ...reg });
  const ready = new Gauge({ name: 'lookout_edge_ready', help: '1 when model, sources and outbox are all ready.', ...reg });
  const uptime = new Gauge({ name: 'lookout_edge_uptime_seconds', help: 'Seconds since the inspector started.', ...reg });
  const plcUp = new Gauge({ name: 'lookout_edge_plc_up', help: '1 while the PLC answers over the protocol (modbus, opcua), 0 while it does not.', labelNames: ['protocol'] as const, ...reg });
  const plcWrites = new Counter({
    name: 'lookout_edge_plc_writes_total',
    help: 'Verdict writes to the PLC by result: written (acknowledged), retried (an attempt failed and is tried again), refused (given up after refusals), dropped (from a full queue), expired (a reject pulse past plc.modbus.reject.maxAgeMs).',
    labelNames: ['protocol', 'result'] as const,
    ...reg,
  });
  const plcQueue = new Gauge({ name: 'lookout_edge_plc_queue_depth', help: 'Verdict writes waiting for the PLC.', labelNames: ['protocol'] as const, ...reg });
  const plcTriggers = new Counter({ name: 'lookout_edge_plc_triggers_total', help: 'Trigger edges seen on the PLC.', labelNames: ['protocol'] as const, ...reg });
  const plcTriggersFailed = new Counter({ name: 'lookout_edge_plc_triggers_failed_total', help: 'Trigger edges the inspector did not serve.', labelNames: ['protocol'] as const, ...reg });
  const evidenceSkipped = new Counter({
    name: 'lookout_edge_evidence_skipped_total',
    help: 'Frames the evidence policy would have kept but did not, by camera and reason (reject-storm: rejects past evidence.keep.rejectsPerMinute outside the 1-in-N sample).',
    labelNames: ['camera', 'reason'] as const,
    ...reg,
  });
  const evidenceDropped = new Counter({ name: 'lookout_edge_evidence_dropped_total', help: 'Frames to keep dropped because the evidence encode queue was full.', ...reg });

  const perCamera = [verdicts, frameErrors, framesTotal, framesDropped, sourceEvents, fps, health, paused, reconnects, triggerDepth, threshold, modelRunning];
  const perPlc = [plcUp, plcWrites, plcQueue, plcTriggers, plcTriggersFailed];

  return {
    observeVerdict(verdict) {
      for (const [stage, key] of Object.entries(STAGE_TIMINGS)) {
        const ms = verdict.timings[key];
        if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) stageDuration.observe({ stage }, ms / 1000);
      }
    },

    async render(status: InspectorStatus) {
      // Label sets follow the snapshot: a removed camera disappears instead of freezing at its last value.
      for (const metric of perCamera) metric.reset();
      for (const cam of status.cameras) {
        const camera = cam.id;
        for (const outcome of OUTCOMES) verdicts.inc({ camera, outcome }, cam.counts[outcome]);
        frameErrors.inc({ camera }, cam.counts.errors);
        framesTotal.inc({ camera }, cam.source.framesTotal);
        framesDropped.inc({ camera, reason: 'source' }, cam.source.framesDropped);
        framesDropped.inc({ camera, reason: 'backpressure' }, cam.framesSkipped);
        for (const [event, value] of Object.entries(cam.source.counters ?? {})) sourceEvents.inc({ camera, event }, value);
        fps.set({ camera }, cam.source.fps);
        for (const grade of GRADES) health.set({ camera, grade }, cam.source.grade === grade ? 1 : 0);
        paused.set({ camera }, cam.paused ? 1 : 0);
        reconnects.set({ camera }, cam.source.reconnectsLastHour);
        triggerDepth.set({ camera }, cam.triggerQueueDepth);
        if (cam.thresholdOverride !== undefined) threshold.set({ camera }, cam.thresholdOverride);
      }
      modelRunning.set({ component: status.model.component }, status.model.status === 'RUNNING' ? 1 : 0);
      outboxDepth.set(status.outbox.depth);
      outboxAge.set(status.outbox.oldestAgeMs === null ? 0 : status.outbox.oldestAgeMs / 1000);
      outboxEvictions.reset();
      outboxEvictions.inc(status.outbox.evictions);
      outboxWritable.set(status.outbox.writable ? 1 : 0);
      ready.set(status.ready.model && status.ready.sources && status.ready.outbox ? 1 : 0);
      uptime.set(Math.max(0, (status.now - status.startedAt) / 1000));
      for (const metric of perPlc) metric.reset();
      for (const [protocol, plc] of Object.entries(status.plc ?? {})) {
        plcUp.set({ protocol }, plc.state === 'up' ? 1 : 0);
        for (const result of PLC_WRITE_RESULTS) plcWrites.inc({ protocol, result }, plc[result] ?? 0);
        plcQueue.set({ protocol }, plc.queued);
        plcTriggers.inc({ protocol }, plc.triggers);
        plcTriggersFailed.inc({ protocol }, plc.triggersFailed);
      }
      evidenceSkipped.reset();
      evidenceDropped.reset();
      if (status.evidence) {
        for (const [camera, n] of Object.entries(status.evidence.skipped)) evidenceSkipped.inc({ camera, reason: 'reject-storm' }, n);
        evidenceDropped.inc(status.evidence.dropped);
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
