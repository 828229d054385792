import type { LatencySummary } from '../core/inspector-status.js';
import type { StageTimings } from '../core/verdict.js';
import { LatencyWindow } from './latency-window.js';

const STAGES = ['queue', 'capture', 'preprocess', 'inference', 'decide', 'mask', 'total'] as const;
type Stage = (typeof STAGES)[number];

/** Latency windows for every pipeline stage, shared by all cameras. */
export class StageStats {
  private readonly windows = new Map<Stage, LatencyWindow>(STAGES.map((s) => [s, new LatencyWindow()]));
  private readonly listeners: Array<(stage: Stage, ms: number) => void> = [];

  record(timings: StageTimings): void {
    for (const stage of STAGES) {
      const ms = timings[`${stage}Ms`];
      if (ms === undefined) continue;
      this.windows.get(stage)!.record(ms);
      for (const listener of this.listeners) listener(stage, ms);
    }
  }

  /** For metrics histograms: called with every stage duration as it is recorded. */
  onSample(listener: (stage: Stage, ms: number) => void): void {
    this.listeners.push(listener);
  }

  summary(): Record<string, LatencySummary> {
    return Object.fromEntries([...this.windows].filter(([, w]) => w.summary().count > 0).map(([s, w]) => [s, w.summary()]));
  }
}
