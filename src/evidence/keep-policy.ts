import type { EvidenceConfig } from '../config/slices/evidence.js';
import type { Verdict } from '../core/verdict.js';
import type { KeepReason } from './types.js';

/**
 * Decides whether a verdict's frame is worth keeping, and why. Pure apart from the per-camera counter
 * that samples normals (1 in N per camera, the first one of each camera included).
 *
 * Order of reasons: reject, fail-safe (any basis other than the model), hold, low confidence,
 * near the threshold, normal sample.
 */
export class KeepPolicy {
  private readonly normalsSeen = new Map<string, number>();

  constructor(private readonly keep: EvidenceConfig['keep']) {}

  decide(verdict: Verdict): KeepReason | null {
    if (verdict.outcome === 'reject') return 'reject';
    if (verdict.basis !== 'model') return 'fail-safe';
    if (verdict.outcome === 'hold') return 'hold';
    if (verdict.confidence !== undefined && verdict.confidence < this.keep.lowConfidenceBelow) return 'low-confidence';
    const { anomalyScore: score, anomalyThreshold: threshold } = verdict;
    if (score !== undefined && threshold !== undefined && this.keep.scoreMargin > 0 && Math.abs(score - threshold) <= this.keep.scoreMargin) {
      return 'near-threshold';
    }
    const every = this.keep.normalSampleEvery;
    if (every <= 0) return null;
    const seen = this.normalsSeen.get(verdict.cameraId) ?? 0;
    this.normalsSeen.set(verdict.cameraId, seen + 1);
    return seen % every === 0 ? 'normal-sample' : null;
  }
}
