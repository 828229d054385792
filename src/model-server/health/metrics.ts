import type { DetectObserver } from '../edge-agent-service.js';
import type { ModelServerSnapshot } from './readiness.js';

/**
 * The model server's Prometheus exposition behind `/metrics`: DetectAnomalies outcomes and latency are
 * observed as calls end; model states, queue depth and refused calls are read from a snapshot at scrape time.
 */
export interface ModelServerMetrics extends DetectObserver {
  render(snapshot: ModelServerSnapshot): Promise<{ contentType: string; body: string }>;
}

/** The `state` label values of a model: the Edge Agent states, plus WAITING for its registry file. */
export const MODEL_STATES = ['STOPPED', 'STARTING', 'RUNNING', 'FAILED', 'STOPPING', 'WAITING'] as const;
