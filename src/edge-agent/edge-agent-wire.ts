/**
 * The Edge Agent messages as they look in JS after proto-loader (keepCase, longs as numbers, enums as
 * numbers, defaults, oneofs). Shared by our client and our server; see proto/edge-agent.proto.
 */

export interface WireSharedMemoryHandle {
  name: string;
  size: number;
  offset: number;
}

export interface WireBitmap {
  width: number;
  height: number;
  byte_data?: Uint8Array | null;
  shared_memory_handle?: WireSharedMemoryHandle | null;
  /** The oneof's virtual field: which member is set. */
  data?: 'byte_data' | 'shared_memory_handle';
}

export interface WireAnomalyMaskParams {
  shared_memory_handle?: WireSharedMemoryHandle | null;
  /** Field 3, the early 2021 sample's numbering: read by our server, never sent by our client. */
  legacy_shared_memory_handle?: WireSharedMemoryHandle | null;
}

export interface WireAnomaly {
  name: string;
  pixel_anomaly?: { total_percentage_area: number; hex_color: string } | null;
}

export interface WireDetectAnomalyResult {
  is_anomalous: boolean;
  confidence: number;
  anomaly_mask?: WireBitmap | null;
  anomalies: WireAnomaly[];
  anomaly_score?: number;
  anomaly_threshold?: number;
}

export interface WireDetectAnomaliesRequest {
  model_component: string;
  bitmap?: WireBitmap | null;
  anomaly_mask_params?: WireAnomalyMaskParams | null;
}

export interface WireDetectAnomaliesResponse {
  detect_anomaly_result: WireDetectAnomalyResult | null;
}

export interface WireModelDescription {
  model_component: string;
  lookout_vision_model_arn: string;
  status: number;
  status_message: string;
}

export interface WireModelRequest {
  model_component: string;
}

export interface WireStatusResponse {
  status: number;
}

export interface WireListModelsResponse {
  models: WireModelDescription[];
}

export interface WireDescribeModelResponse {
  model_description: WireModelDescription | null;
}

/** gRPC metadata key our client sends to say it does not want the mask (AWS's agent ignores it). */
export const WANT_MASK_METADATA = 'x-lookout-edge-want-mask';
