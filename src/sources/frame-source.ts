import type { Frame } from '../core/frame.js';
import type { Logger } from '../core/log.js';

/** The life of a camera connection. */
export type SourceState = 'idle' | 'connecting' | 'streaming' | 'stalled' | 'backing-off' | 'stopped';

export type HealthGrade = 'good' | 'degraded' | 'bad';

export interface SourceHealth {
  readonly state: SourceState;
  /** Frames per second delivered over the last minute. */
  readonly fps: number;
  readonly framesTotal: number;
  /** Frames the source itself had to drop (decode errors, oversize, overwritten before read). */
  readonly framesDropped: number;
  readonly reconnectsLastHour: number;
  readonly stallsLastHour: number;
  readonly lastFrameAt?: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
  readonly grade: HealthGrade;
  /** A source's own counters, by name (GenICam: incompleteFrames, resentPackets, missingPackets…). */
  readonly counters?: Readonly<Record<string, number>>;
}

/**
 * One camera. Free-running sources push every frame they get to `deps.onFrame` once started;
 * `capture()` takes one frame now, for trigger mode ("inspect part 1234"). Neither ever throws
 * into the pipeline: failures move the state machine (backing off, stalled) and show in health().
 */
export interface FrameSource {
  readonly cameraId: string;
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  health(): SourceHealth;
  /** One frame now (a snapshot GET, the newest decoded RTSP frame, the next file). Rejects with a LookoutError. */
  capture(partId?: string): Promise<Frame>;
  /**
   * Only sources fired outside us (a GenICam camera's line): a trigger then announces the id of a part
   * the line fires, given to one of the frames the source pushes; settles with what `onFrame` made of
   * that frame (the verdict).
   */
  readonly announcePart?: (partId: string) => Promise<unknown>;
}

export interface FrameSourceDeps {
  /**
   * Called for every frame in free-running mode; the pipeline decides what to keep. The folder source
   * awaits a returned promise before it moves the file (processed/ on resolve, failed/ on reject), in
   * the order the files were handed over, which makes folder intake lossless and ordered; the other
   * sources ignore the result.
   */
  readonly onFrame: (frame: Frame) => void | Promise<unknown>;
  /**
   * How many frames a lossless source (folder) may have handed over whose promise has not settled yet:
   * the next file is read while earlier ones are still in the pipeline. Default 1 (one at a time).
   */
  readonly lookahead?: number;
  /** In trigger mode the source does not free-run: start() only connects, frames come from capture(). */
  readonly freeRunning: boolean;
  /** A child logger carrying `{ stage: 'source', camera }`. */
  readonly log: Logger;
}
