import type { InspectorStatus } from '../core/inspector-status.js';
import type { Verdict } from '../core/verdict.js';

/**
 * The Prometheus exposition behind `/metrics`. Verdict events feed the latency histograms as they
 * happen; counters and gauges are read from the inspector's snapshot at scrape time, so they agree
 * with `/api/status` even when the server starts after the pipeline.
 */
export interface StatusMetrics {
  observeVerdict(verdict: Verdict): void;
  render(status: InspectorStatus): Promise<{ contentType: string; body: string }>;
}

/** Stage names as they appear in the `stage` label, from a verdict's timings. */
export const STAGE_TIMINGS = {
  capture: 'captureMs',
  queue: 'queueMs',
  preprocess: 'preprocessMs',
  inference: 'inferenceMs',
  decide: 'decideMs',
  mask: 'maskMs',
  total: 'totalMs',
} as const satisfies Record<string, keyof Verdict['timings']>;
