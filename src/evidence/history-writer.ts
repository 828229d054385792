import type { EvidenceConfig } from '../config/slices/evidence.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import type { EvidenceIndex } from './evidence-index.js';
import type { HistoryRow } from './types.js';

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Rows per transaction on the timer, so a backlog never holds the event loop for long. */
const CHUNK = 2_000;

export function historyRow(verdict: Verdict): HistoryRow {
  return {
    id: verdict.id,
    cameraId: verdict.cameraId,
    partId: verdict.partId ?? null,
    outcome: verdict.outcome,
    isAnomalous: verdict.isAnomalous,
    score: verdict.anomalyScore ?? null,
    classes: verdict.anomalies.map((a) => ({ name: a.name, totalPercentageArea: a.totalPercentageArea })),
    decidedAt: verdict.decidedAt,
  };
}

/**
 * Every verdict into the history table, batched: `add()` only appends to a bounded buffer (past it the
 * row is dropped and counted); a timer writes the buffer in one transaction and prunes by age and rows.
 */
export class HistoryWriter {
  private buffer: HistoryRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  dropped = 0;
  written = 0;
  errors = 0;

  constructor(
    private readonly deps: {
      readonly config: EvidenceConfig['history'];
      readonly index: () => EvidenceIndex | undefined;
      readonly log: Logger;
      readonly now: () => number;
    },
  ) {}

  get pending(): number {
    return this.buffer.length;
  }

  add(row: HistoryRow): void {
    if (this.buffer.length >= this.deps.config.bufferCapacity) {
      this.dropped += 1;
      return;
    }
    this.buffer.push(row);
    if (!this.timer) this.schedule(this.deps.config.flushIntervalMs);
  }

  /** Writes everything buffered (drain, stop, before a report reads). */
  flush(): void {
    while (this.buffer.length > 0 && this.deps.index()) this.flushSome(CHUNK);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushSome(CHUNK);
      if (this.buffer.length > 0 && this.deps.index()) this.schedule(0);
    }, delayMs);
    this.timer.unref();
  }

  private flushSome(max: number): void {
    const index = this.deps.index();
    if (!index || this.buffer.length === 0) return;
    const rows = this.buffer.splice(0, max);
    try {
      index.insertHistory(rows);
      this.written += rows.length;
    } catch (err) {
      this.errors += 1;
      this.dropped += rows.length;
      this.deps.log.warn({ err, rows: rows.length }, 'verdict history write failed; rows dropped');
    }
    this.pruneIfDue(index);
  }

  private pruneIfDue(index: EvidenceIndex): void {
    const now = this.deps.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    try {
      const removed = index.pruneHistory(now - this.deps.config.retentionDays * DAY_MS, this.deps.config.maxRows);
      if (removed > 0) this.deps.log.info({ removed }, 'verdict history pruned');
    } catch (err) {
      this.errors += 1;
      this.deps.log.warn({ err }, 'verdict history prune failed');
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
