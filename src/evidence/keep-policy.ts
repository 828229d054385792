import type { EvidenceConfig } from '../config/slices/evidence.js';
import type { Verdict } from '../core/verdict.js';
import type { KeepReason } from './types.js';

/** A per-camera budget of kept rejects: `tokens` left, last refilled at `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Decides whether a verdict's frame is worth keeping, and why. Pure apart from its per-camera counters
 * and the clock it is given.
 *
 * Fail-safe verdicts (the model did not answer) are sampled 1 in `failSafeSampleEvery` per camera, so an
 * outage does not flood the store. Model verdicts, in order: reject, hold, low confidence, near the
 * threshold, else a 1-in-`normalSampleEvery` sample of normals.
 *
 * Rejects are kept within a per-camera token bucket (`rejectsPerMinute` per minute, a burst of as many);
 * during a reject storm beyond it, 1 in `rejectStormSampleEvery` of the camera's rejects is kept (the
 * first one included) and the others are counted in `skipped`. `rejectsPerMinute` 0 keeps every reject.
 */
export class KeepPolicy {
  private readonly normalsSeen = new Map<string, number>();
  private readonly failSafesSeen = new Map<string, number>();
  private readonly stormRejectsSeen = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly skippedByCamera = new Map<string, number>();

  constructor(
    private readonly keep: EvidenceConfig['keep'],
    private readonly now: () => number = Date.now,
  ) {}

  decide(verdict: Verdict): KeepReason | null {
    if (verdict.basis !== 'model') return sample(this.failSafesSeen, verdict.cameraId, this.keep.failSafeSampleEvery) ? 'fail-safe' : null;
    if (verdict.outcome === 'reject') return this.keepReject(verdict.cameraId) ? 'reject' : null;
    if (verdict.outcome === 'hold') return 'hold';
    if (verdict.confidence !== undefined && verdict.confidence < this.keep.lowConfidenceBelow) return 'low-confidence';
    const { anomalyScore: score, anomalyThreshold: threshold } = verdict;
    if (score !== undefined && threshold !== undefined && this.keep.scoreMargin > 0 && Math.abs(score - threshold) <= this.keep.scoreMargin) {
      return 'near-threshold';
    }
    return sample(this.normalsSeen, verdict.cameraId, this.keep.normalSampleEvery) ? 'normal-sample' : null;
  }

  /** Rejects not kept because of a reject storm, by camera (`reason="reject-storm"` in the metrics). */
  skipped(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.skippedByCamera);
  }

  private keepReject(cameraId: string): boolean {
    const perMinute = this.keep.rejectsPerMinute;
    if (perMinute <= 0) return true;
    const now = this.now();
    const bucket = this.buckets.get(cameraId) ?? { tokens: perMinute, at: now };
    // a clock that steps back refills nothing
    bucket.tokens = Math.min(perMinute, bucket.tokens + (Math.max(0, now - bucket.at) * perMinute) / 60_000);
    bucket.at = now;
    this.buckets.set(cameraId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    if (sample(this.stormRejectsSeen, cameraId, this.keep.rejectStormSampleEvery)) return true;
    this.skippedByCamera.set(cameraId, (this.skippedByCamera.get(cameraId) ?? 0) + 1);
    return false;
  }
}

/** 1 in `every` per camera, the first one included; `every` 0 never. */
function sample(seen: Map<string, number>, cameraId: string, every: number): boolean {
  if (every <= 0) return false;
  const n = seen.get(cameraId) ?? 0;
  seen.set(cameraId, n + 1);
  return n % every === 0;
}
