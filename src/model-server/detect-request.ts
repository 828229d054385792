import { LookoutError } from '../core/errors.js';
import { MAX_SIDE, MIN_SIDE, rgbByteLength } from '../core/image.js';
import type { DetectResult } from '../core/model.js';
import type { WireBitmap, WireDetectAnomaliesRequest, WireDetectAnomalyResult, WireSharedMemoryHandle } from '../edge-agent/edge-agent-wire.js';
import { type CheckedHandle, checkHandle } from './shm-access.js';

export type BitmapSource = { readonly kind: 'inline'; readonly bytes: Uint8Array } | { readonly kind: 'shm'; readonly handle: CheckedHandle };

export interface CheckedDetectRequest {
  readonly width: number;
  readonly height: number;
  readonly source: BitmapSource;
  /** Where to write the mask instead of returning it inline (field 2, or the legacy field 3). */
  readonly maskHandle?: CheckedHandle;
}

function invalid(message: string): LookoutError {
  return new LookoutError('INFERENCE_INVALID_ARGUMENT', message);
}

/** Everything about a DetectAnomaliesRequest that can be checked without I/O: INVALID_ARGUMENT otherwise. */
export function checkDetectRequest(req: WireDetectAnomaliesRequest, shmDir: string): CheckedDetectRequest {
  const bitmap = req.bitmap;
  if (!bitmap) throw invalid('bitmap is required');
  const { width, height } = bitmap;
  for (const [side, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < MIN_SIDE || v > MAX_SIDE) throw invalid(`bitmap ${side} ${v} is outside ${MIN_SIDE}..${MAX_SIDE}`);
  }
  const expected = rgbByteLength(width, height);
  let source: BitmapSource;
  if (bitmap.data === 'shared_memory_handle' || (bitmap.data === undefined && bitmap.shared_memory_handle)) {
    const handle = checkHandle(bitmap.shared_memory_handle as WireSharedMemoryHandle, shmDir, 'bitmap');
    if (handle.size !== expected) throw invalid(`bitmap shared memory size ${handle.size} != width*height*3 = ${expected}`);
    source = { kind: 'shm', handle };
  } else {
    const bytes = bitmap.byte_data ?? new Uint8Array(0);
    if (bytes.length !== expected) throw invalid(`bitmap byte_data length ${bytes.length} != width*height*3 = ${expected}`);
    source = { kind: 'inline', bytes };
  }
  const params = req.anomaly_mask_params;
  const rawMask = params?.shared_memory_handle ?? params?.legacy_shared_memory_handle ?? undefined;
  if (!rawMask) return { width, height, source };
  const maskHandle = checkHandle(rawMask, shmDir, 'anomaly_mask_params');
  if (maskHandle.size < expected) throw invalid(`anomaly mask shared memory size ${maskHandle.size} < width*height*3 = ${expected}`);
  return { width, height, source, maskHandle };
}

/** A runtime's answer as the wire carries it; the mask is attached by the caller (inline or shm). */
export function toWireResult(result: DetectResult, threshold: number, mask: WireBitmap | undefined): WireDetectAnomalyResult {
  const out: WireDetectAnomalyResult = {
    is_anomalous: result.isAnomalous,
    confidence: result.confidence,
    anomalies: result.anomalies.map((a) => ({ name: a.name, pixel_anomaly: { total_percentage_area: a.totalPercentageArea, hex_color: a.hexColor } })),
    anomaly_mask: mask ?? null,
  };
  if (result.anomalyScore !== undefined) out.anomaly_score = result.anomalyScore;
  out.anomaly_threshold = result.anomalyThreshold ?? threshold;
  return out;
}
