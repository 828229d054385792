import type { LatencySummary } from '../core/inspector-status.js';

/** Per-stage latency over the last `size` samples: a ring buffer, percentiles on demand. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size = 1024) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    this.filled = Math.min(this.filled + 1, this.samples.length);
  }

  summary(): LatencySummary {
    if (this.filled === 0) return { p50: 0, p90: 0, p99: 0, count: 0 };
    const sorted = this.samples.slice(0, this.filled).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), count: this.filled };
  }
}
