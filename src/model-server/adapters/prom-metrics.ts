import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ModelStatus } from '../../core/model.js';
import { MODEL_STATES, type ModelServerMetrics } from '../health/metrics.js';
import { assessReadiness } from '../health/readiness.js';

/** prom-client behind ModelServerMetrics; one private registry per server. */
export function createModelServerMetrics(options: { defaultMetrics?: boolean } = {}): ModelServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
  const p = 'lookout_edge_model_server_';

  const calls = new Counter({ name: `${p}detect_total`, help: 'DetectAnomalies calls answered, by model component.', labelNames: ['component'] as const, ...reg });
  const errors = new Counter({ name: `${p}detect_errors_total`, help: 'DetectAnomalies calls that failed, by model component and error code.', labelNames: ['component', 'code'] as const, ...reg });
  const latency = new Histogram({
    name: `${p}detect_duration_seconds`,
    help: 'DetectAnomalies time in the server (queueing included), by model component.',
    labelNames: ['component'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ...reg,
  });
  const state = new Gauge({ name: `${p}model_state`, help: '1 for the model\'s current state, 0 for the others (WAITING: its registry file is not usable yet).', labelNames: ['component', 'state'] as const, ...reg });
  const queueDepth = new Gauge({ name: `${p}queue_depth`, help: 'DetectAnomalies calls waiting for a free inference slot.', ...reg });
  const active = new Gauge({ name: `${p}inferences_active`, help: 'Inferences running now.', ...reg });
  const rejected = new Counter({ name: `${p}rejected_total`, help: 'Calls refused because the queue was full (RESOURCE_EXHAUSTED).', ...reg });
  const skipped = new Counter({ name: `${p}skipped_total`, help: 'Queued calls dropped because their caller had already given up.', ...reg });
  const reservedBytes = new Gauge({ name: `${p}admission_reserved_bytes`, help: 'Input bitmap bytes held by DetectAnomalies calls queued or running (bounded by modelServer.queueBytes).', ...reg });
  const overBudget = new Counter({ name: `${p}admission_over_budget_total`, help: 'DetectAnomalies calls refused for want of bytes under modelServer.queueBytes (RESOURCE_EXHAUSTED).', ...reg });
  const readingBytes = new Gauge({ name: `${p}admission_reading_bytes`, help: 'Bytes held for DetectAnomalies requests being received (the largest request each; within modelServer.queueBytes).', ...reg });
  const readsWaiting = new Gauge({ name: `${p}admission_reads_waiting`, help: 'DetectAnomalies calls waiting, unread, for modelServer.queueBytes to have room for their request.', ...reg });
  const readTimeouts = new Counter({ name: `${p}admission_read_timeouts_total`, help: 'DetectAnomalies calls whose request did not arrive within modelServer.readTimeoutMs (RESOURCE_EXHAUSTED).', ...reg });
  const ready = new Gauge({ name: `${p}ready`, help: '1 when the gRPC server listens and every startOnBoot model is RUNNING.', ...reg });

  return {
    observeDetect(component, outcome) {
      // A name no model has would grow the label set without bound: counted under one label.
      const label = outcome.error?.code === 'MODEL_NOT_FOUND' ? '(unknown)' : component;
      latency.observe({ component: label }, outcome.seconds);
      if (outcome.error) errors.inc({ component: label, code: outcome.error.code });
      else calls.inc({ component: label });
    },

    async render(snapshot) {
      state.reset();
      for (const m of snapshot.models) for (const s of MODEL_STATES) state.set({ component: m.component, state: s }, ModelStatus[m.status] === s ? 1 : 0);
      for (const w of snapshot.waiting) for (const s of MODEL_STATES) state.set({ component: w.component, state: s }, s === 'WAITING' ? 1 : 0);
      queueDepth.set(snapshot.queue.waiting);
      active.set(snapshot.queue.active);
      rejected.reset();
      rejected.inc(snapshot.queue.rejected);
      skipped.reset();
      skipped.inc(snapshot.queue.skipped);
      reservedBytes.set(snapshot.queue.reservedBytes);
      overBudget.reset();
      overBudget.inc(snapshot.queue.overBudget);
      readingBytes.set(snapshot.queue.readingBytes);
      readsWaiting.set(snapshot.queue.readsWaiting);
      readTimeouts.reset();
      readTimeouts.inc(snapshot.queue.readTimeouts);
      ready.set(assessReadiness(snapshot).ready ? 1 : 0);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
