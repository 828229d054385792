import type { RgbImage } from '../core/image.js';
import type { AnomalyClass, DetectResult } from '../core/model.js';
import type { Verdict } from '../core/verdict.js';

/** What one inspected frame left behind: its verdict and what the verdict was made from. */
export interface Inspection {
  readonly verdict: Verdict;
  /** The preprocessed frame the model saw, when there was one. */
  readonly frame?: RgbImage;
  /** The model's mask, when it sent one. */
  readonly mask?: NonNullable<DetectResult['mask']>;
  /** The saved mask as PNG, for inline payloads when small (delivering sinks only: see VerdictSink). */
  readonly maskPng?: Buffer;
}

/**
 * One thing done with every verdict once it is made: the reject signal, the outbox, a PLC output, evidence,
 * counters, the dashboard preview.
 *
 * A `fast` sink (the reject signal, PLC outputs) tells the line: a camera calls it the moment the verdict
 * exists, before the verdict's other sinks and without waiting for the previous verdict's delivery; fast
 * sinks are called in their list's order, verdict after verdict in arrival order, and never awaited (one
 * that has work to wait for starts it and returns; a failure is logged). They see the verdict before its
 * mask is saved: no `verdict.mask` files and no `maskPng` yet.
 *
 * The other sinks deliver: a camera saves the verdict's mask, then runs them in their list's order, each
 * awaited, in arrival order. Verdicts made while the previous delivery ran come as a batch: each sink is
 * given all of them (in order, without waiting between them) before the next sink starts. A `required`
 * sink (the outbox) decides whether the frame is accepted: when it fails, the sinks after it are skipped
 * and the source is told (a folder file goes to failed/). Any other sink's failure is logged and the next
 * one runs.
 */
export interface VerdictSink {
  readonly name: string;
  readonly required?: boolean;
  readonly fast?: boolean;
  accept(inspection: Inspection): void | Promise<void>;
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
