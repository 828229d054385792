import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { DetectResult } from '../core/model.js';
import type { Verdict } from '../core/verdict.js';
import type { RgbImage } from '../core/image.js';
import type { PreviewRenderer } from './ports.js';

/** A camera takes a pass frame as its dashboard preview at most this often (rejects and holds always). */
export const PREVIEW_INTERVAL_MS = 500;

export interface PreviewJpeg {
  readonly jpeg: Buffer;
  readonly verdictId: string;
}

/**
 * One camera's latest dashboard preview. offer() keeps the frame when a preview is due; the JPEG is
 * rendered only when someone asks for it (get), once per preview frame, so a dashboard nobody looks
 * at costs no sharp work. Keeps one preprocessed frame alive.
 */
export class LatestPreview {
  private lastAt = Number.NEGATIVE_INFINITY;
  private frame: { image: RgbImage; mask: DetectResult['mask']; verdictId: string } | undefined;
  private jpeg: Promise<PreviewJpeg | undefined> | undefined;

  constructor(private readonly deps: { readonly renderer: PreviewRenderer; readonly log: Logger; readonly now: () => number }) {}

  /** True when the frame became the preview (the caller announces it). */
  offer(image: RgbImage, verdict: Verdict, mask: DetectResult['mask']): boolean {
    const now = this.deps.now();
    if (now - this.lastAt < PREVIEW_INTERVAL_MS && verdict.outcome === 'pass') return false;
    this.lastAt = now;
    this.frame = { image, mask: verdict.isAnomalous ? mask : undefined, verdictId: verdict.id };
    this.jpeg = undefined;
    return true;
  }

  get(): Promise<PreviewJpeg | undefined> {
    const frame = this.frame;
    if (!frame) return Promise.resolve(undefined);
    if (!this.jpeg) {
      const rendering: Promise<PreviewJpeg | undefined> = this.deps.renderer.render(frame.image, frame.mask).then(
        (jpeg) => ({ jpeg, verdictId: frame.verdictId }),
        (err: unknown) => {
          // Not kept: the next request tries again.
          if (this.jpeg === rendering) this.jpeg = undefined;
          this.deps.log.debug({ err: toLookoutError(err).toJSON() }, 'preview not rendered');
          return undefined;
        },
      );
      this.jpeg = rendering;
    }
    return this.jpeg;
  }
}
