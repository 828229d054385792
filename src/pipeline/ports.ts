import type { RgbImage } from '../core/image.js';
import type { AnomalyClass, DetectResult } from '../core/model.js';
import type { Verdict } from '../core/verdict.js';

/** Where verdicts go: the reject signal at once, then durably into the outbox. Resolves once durable. */
export interface VerdictSink {
  deliver(verdict: Verdict, mask?: { png: Buffer }): Promise<void>;
}

export interface SavedMask {
  /** Paths relative to the masks directory. */
  readonly png: string;
  readonly overlay?: string;
  readonly bytes: number;
  /** The PNG itself, for inline MQTT payloads when small. */
  readonly pngBytes?: Buffer;
}

/** Keeps mask files on disk under a quota. */
export interface MaskSink {
  save(input: {
    verdictId: string;
    cameraId: string;
    mask: NonNullable<DetectResult['mask']>;
    frame?: RgbImage;
    classes: readonly AnomalyClass[];
  }): Promise<SavedMask>;
}

/** Small JPEG previews for the dashboard: the frame, with its mask blended in when there is one. */
export interface PreviewRenderer {
  render(frame: RgbImage, mask?: NonNullable<DetectResult['mask']>): Promise<Buffer>;
}

/**
 * Keeps frames worth keeping (anomalies, low-confidence verdicts, a sample of normals) with their
 * verdict and mask, for operator review and retraining. Also records every verdict for reports.
 * Never blocks or fails the pipeline: errors are logged and counted by the implementation.
 */
export interface EvidenceSink {
  record(input: { verdict: Verdict; frame?: RgbImage; mask?: NonNullable<DetectResult['mask']> }): void;
}
