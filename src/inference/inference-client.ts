import type { RgbImage } from '../core/image.js';
import type { DetectResult, ModelInfo, ModelStatus } from '../core/model.js';

export interface DetectOptions {
  /** Ask for the segmentation mask (through shared memory when available). */
  readonly wantMask: boolean;
  /** Overrides the configured per-call deadline. */
  readonly deadlineMs?: number;
}

/**
 * The inspector's view of an Edge Agent (AWS's or ours). One long-lived channel; errors arrive as
 * LookoutErrors (INFERENCE_UNAVAILABLE, INFERENCE_OVERLOADED, INFERENCE_TIMEOUT, MODEL_NOT_RUNNING, ...).
 */
export interface InferenceClient {
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  detect(modelComponent: string, image: RgbImage, options: DetectOptions): Promise<DetectResult>;
  /** ListModels/DescribeModel → StartModel when STOPPED or FAILED → poll until RUNNING (or timeout). */
  ensureRunning(modelComponent: string): Promise<ModelInfo>;
  describe(modelComponent: string): Promise<ModelInfo>;
  list(): Promise<ModelInfo[]>;
  startModel(modelComponent: string): Promise<ModelStatus>;
  stopModel(modelComponent: string): Promise<ModelStatus>;
}
