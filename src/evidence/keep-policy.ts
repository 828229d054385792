import type { EvidenceConfig } from '../config/slices/evidence.js';
import type { Verdict } from '../core/verdict.js';
import type { KeepReason } from './types.js';

/**
 * Decides whether a verdict's frame is worth keeping, and why. Pure apart from the per-camera counter
 * that samples normals (1 in N per camera, the first one of each camera included).
 *
 * Fail-safe verdicts (the model did not answer) are sampled 1 in `failSafeSampleEvery` per camera, so an
 * outage does not flood the store. Model verdicts, in order: reject, hold, low confidence, near the
 * threshold, else a 1-in-`normalSampleEvery` sample of normals.
 */
export class KeepPolicy {
  private readonly normalsSeen = new Map<string, number>();
  private readonly failSafesSeen = new Map<string, number>();

  constructor(private readonly keep: EvidenceConfig['keep']) {}

  decide(verdict: Verdict): KeepReason | null {
    if (verdict.basis !== 'model') return sample(this.failSafesSeen, verdict.cameraId, this.keep.failSafeSampleEvery) ? 'fail-safe' : null;
    if (verdict.outcome === 'reject') return 'reject';
    if (verdict.outcome === 'hold') return 'hold';
    if (verdict.confidence !== undefined && verdict.confidence < this.keep.lowConfidenceBelow) return 'low-confidence';
    const { anomalyScore: score, anomalyThreshold: threshold } = verdict;
    if (score !== undefined && threshold !== undefined && this.keep.scoreMargin > 0 && Math.abs(score - threshold) <= this.keep.scoreMargin) {
      return 'near-threshold';
    }
    return sample(this.normalsSeen, verdict.cameraId, this.keep.normalSampleEvery) ? 'normal-sample' : null;
  }
}

/** 1 in `every` per camera, the first one included; `every` 0 never. */
function sample(seen: Map<string, number>, cameraId: string, every: number): boolean {
  if (every <= 0) return false;
  const n = seen.get(cameraId) ?? 0;
  seen.set(cameraId, n + 1);
  return n % every === 0;
}
