import type { RgbImage } from '../core/image.js';
import type { DetectResult } from '../core/model.js';

/**
 * The small interface between the Edge Agent server and whatever computes the answer.
 * A runtime loads one model directory; the server owns state, queueing and the protocol.
 */

export interface ModelClass {
  readonly name: string;
  /** `#RRGGBB`, the colour of this class in masks. */
  readonly hexColor: string;
}

/** `manifest.json` at the root of every model directory. */
export interface ModelManifest {
  readonly formatVersion: 1;
  /** Which runtime loads it: `builtin` (trained on the device), `onnx`, or test runtimes. */
  readonly runtime: string;
  readonly name: string;
  readonly version: string;
  /** The size the model works at; other sizes are resized by the runtime, masks come back at the request's size. */
  readonly input: { readonly width: number; readonly height: number };
  /** anomaly_score >= threshold means anomalous; fixed at training time. */
  readonly threshold: number;
  /** Defect classes with their mask colours; empty for classification-only models. */
  readonly classes: readonly ModelClass[];
  readonly createdAt?: string;
  /** Training metrics and anything runtime-specific. */
  readonly [key: string]: unknown;
}

export interface InferOptions {
  /** Segmentation models paint a mask only when asked (it costs time). */
  readonly wantMask: boolean;
}

export interface LoadedModel {
  readonly manifest: ModelManifest;
  infer(image: RgbImage, options: InferOptions): Promise<DetectResult>;
  unload(): Promise<void>;
}

export interface ModelRuntime {
  readonly kind: string;
  load(dir: string, manifest: ModelManifest): Promise<LoadedModel>;
}
