import type { HealthGrade, SourceHealth, SourceState } from '../frame-source.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Bounds on the remembered events: a source at 120 fps fills the minute window with 7,200. */
const MAX_FRAME_MARKS = 8_000;
const MAX_EVENT_MARKS = 1_000;

/** Keeps timestamps inside a sliding window, bounded in count. */
class Window {
  private readonly marks: number[] = [];
  constructor(
    private readonly spanMs: number,
    private readonly cap: number,
  ) {}

  add(at: number): void {
    this.marks.push(at);
    if (this.marks.length > this.cap) this.marks.splice(0, this.marks.length - this.cap);
  }

  count(now: number): number {
    const from = now - this.spanMs;
    let drop = 0;
    while (drop < this.marks.length && (this.marks[drop] ?? 0) < from) drop += 1;
    if (drop > 0) this.marks.splice(0, drop);
    return this.marks.length;
  }
}

export interface GradeInput {
  readonly state: SourceState;
  readonly stallsLastHour: number;
  readonly reconnectsLastHour: number;
  readonly framesLastMinute: number;
  readonly dropsLastMinute: number;
  readonly lastErrorAgeMs?: number;
}

/**
 * bad: not delivering now (stalled, backing off), or flapping (3+ stalls or 6+ reconnects an hour).
 * degraded: connecting, any stall or reconnect in the hour, >5% of frames dropped in the minute, or an
 * error in the last 5 minutes. good otherwise.
 */
export function gradeHealth(h: GradeInput): HealthGrade {
  if (h.state === 'stalled' || h.state === 'backing-off') return 'bad';
  if (h.stallsLastHour >= 3 || h.reconnectsLastHour >= 6) return 'bad';
  const seen = h.framesLastMinute + h.dropsLastMinute;
  if (
    h.state !== 'streaming' ||
    h.stallsLastHour > 0 ||
    h.reconnectsLastHour > 0 ||
    (seen > 0 && h.dropsLastMinute / seen > 0.05) ||
    (h.lastErrorAgeMs !== undefined && h.lastErrorAgeMs < 5 * MINUTE)
  ) {
    return 'degraded';
  }
  return 'good';
}

/** Counts what a source did, for `health()`. */
export class HealthTracker {
  private state: SourceState = 'idle';
  private framesTotal = 0;
  private framesDropped = 0;
  private lastFrameAt: number | undefined;
  private lastError: { code: string; message: string; at: number } | undefined;
  private readonly startedAt: number;
  private readonly frames = new Window(MINUTE, MAX_FRAME_MARKS);
  private readonly drops = new Window(MINUTE, MAX_FRAME_MARKS);
  private readonly reconnects = new Window(HOUR, MAX_EVENT_MARKS);
  private readonly stalls = new Window(HOUR, MAX_EVENT_MARKS);

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  setState(state: SourceState): void {
    this.state = state;
  }

  getState(): SourceState {
    return this.state;
  }

  frame(at = this.now()): void {
    this.framesTotal += 1;
    this.lastFrameAt = at;
    this.frames.add(at);
  }

  drop(): void {
    this.framesDropped += 1;
    this.drops.add(this.now());
  }

  reconnect(): void {
    this.reconnects.add(this.now());
  }

  stall(): void {
    this.stalls.add(this.now());
  }

  error(code: string, message: string): void {
    this.lastError = { code, message, at: this.now() };
  }

  snapshot(): SourceHealth {
    const now = this.now();
    const framesLastMinute = this.frames.count(now);
    const spanS = Math.max(1, Math.min(MINUTE, now - this.startedAt)) / 1000;
    const stallsLastHour = this.stalls.count(now);
    const reconnectsLastHour = this.reconnects.count(now);
    const grade = gradeHealth({
      state: this.state,
      stallsLastHour,
      reconnectsLastHour,
      framesLastMinute,
      dropsLastMinute: this.drops.count(now),
      ...(this.lastError ? { lastErrorAgeMs: now - this.lastError.at } : {}),
    });
    return {
      state: this.state,
      fps: Math.round((framesLastMinute / spanS) * 100) / 100,
      framesTotal: this.framesTotal,
      framesDropped: this.framesDropped,
      reconnectsLastHour,
      stallsLastHour,
      ...(this.lastFrameAt !== undefined ? { lastFrameAt: this.lastFrameAt } : {}),
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      grade,
    };
  }
}
