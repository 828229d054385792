import { LookoutError } from '../core/errors.js';
import type { DetectResult, ModelInfo, ModelStatus } from '../core/model.js';
import type { WireDetectAnomalyResult, WireModelDescription } from '../edge-agent/edge-agent-wire.js';

export function toModelInfo(d: WireModelDescription | null | undefined, component: string): ModelInfo {
  if (!d) throw new LookoutError('INFERENCE_FAILED', `DescribeModel for ${component} returned no model_description`);
  return { component: d.model_component, modelArn: d.lookout_vision_model_arn, status: d.status as ModelStatus, statusMessage: d.status_message };
}

/**
 * A DetectAnomalyResult as the rest of the app sees it. anomaly_score / anomaly_threshold stay undefined
 * when an older agent leaves them out. The mask is attached by the caller (inline bytes or shm).
 */
export function toDetectResult(r: WireDetectAnomalyResult | null | undefined, mask: DetectResult['mask']): DetectResult {
  if (!r) throw new LookoutError('INFERENCE_FAILED', 'DetectAnomalies returned no detect_anomaly_result');
  const out: { -readonly [K in keyof DetectResult]: DetectResult[K] } = {
    isAnomalous: r.is_anomalous,
    confidence: r.confidence,
    anomalies: (r.anomalies ?? []).map((a) => ({
      name: a.name,
      totalPercentageArea: a.pixel_anomaly?.total_percentage_area ?? 0,
      hexColor: a.pixel_anomaly?.hex_color ?? '',
    })),
  };
  if (typeof r.anomaly_score === 'number') out.anomalyScore = r.anomaly_score;
  if (typeof r.anomaly_threshold === 'number') out.anomalyThreshold = r.anomaly_threshold;
  if (mask) out.mask = mask;
  return out;
}
