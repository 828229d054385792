import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EvidenceConfig } from '../config/slices/evidence.js';
import { LookoutError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { EvidenceStatus } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { DetectResult } from '../core/model.js';
import { safeStem } from '../core/safe-name.js';
import type { Verdict } from '../core/verdict.js';
import type { EvidenceSink } from '../pipeline/ports.js';
import type { EvidenceIndex, EvidenceReader, HistorySource } from './evidence-index.js';
import { HistoryWriter, historyRow } from './history-writer.js';
import type { ImageCodec } from './image-codec.js';
import { KeepPolicy } from './keep-policy.js';
import type {
  EvidenceQuery,
  EvidenceRecord,
  EvidenceStats,
  HistoryQuery,
  HistoryRow,
  KeepReason,
  ReviewAudit,
  ReviewLabel,
  RollupClass,
  RollupCounts,
} from './types.js';

export interface EvidenceStoreDeps {
  readonly config: EvidenceConfig;
  /** Opened in start(): e.g. `() => openSqliteEvidenceIndex(join(dir, 'evidence.sqlite'))`. */
  readonly openIndex: () => EvidenceIndex;
  readonly codec: ImageCodec;
  readonly log: Logger;
  /** The running version of a model component, when the caller knows it. */
  readonly modelVersionOf?: (component: string) => string | undefined;
  readonly now?: () => number;
}

export interface ReviewInput {
  readonly label: ReviewLabel;
  /** A painted mask (PNG; classes in colour, background black or transparent). Anomalies only. */
  readonly maskPng?: Buffer;
  /** For an anomaly without a painted mask: keep the model's mask (default true). */
  readonly acceptMask?: boolean;
  readonly reviewer?: string;
}

interface Pending {
  readonly verdict: Verdict;
  readonly reason: KeepReason;
  readonly frame: RgbImage;
  readonly mask?: RgbImage;
  readonly modelVersion: string | null;
}

const STOP_DEADLINE_MS = 10_000;
const EVICT_BATCH = 64;

/**
 * Keeps frames worth keeping (see KeepPolicy) as JPEG + mask PNG under `dir/frames/<UTC day>/`, indexed
 * with their verdict; records every verdict into the history. `record()` only decides and queues: the
 * encode and write happen on a worker, the queue is bounded and drops are counted.
 *
 * Quota: past `quotaBytes` whole records are deleted in tier order (types.ts `evictionTier`), oldest
 * first within a tier: reviewed normals → unreviewed normals → reviewed anomalies → unreviewed anomalies.
 */
export class EvidenceStore implements EvidenceSink, HistorySource, EvidenceReader {
  private index: EvidenceIndex | undefined;
  private readonly policy: KeepPolicy;
  private readonly history: HistoryWriter;
  private readonly queue: Pending[] = [];
  private working: Promise<void> | undefined;
  private accepting = false;
  private bytes = 0;
  private dropped = 0;
  private evicted = 0;
  private writeErrors = 0;
  private recordErrors = 0;
  private readonly now: () => number;

  constructor(private readonly deps: EvidenceStoreDeps) {
    this.now = deps.now ?? Date.now;
    this.policy = new KeepPolicy(deps.config.keep, this.now);
    this.history = new HistoryWriter({ config: deps.config.history, index: () => this.index, log: deps.log, now: this.now });
  }

  get dir(): string {
    return this.deps.config.dir;
  }

  async start(): Promise<void> {
    await mkdir(join(this.dir, 'frames'), { recursive: true });
    this.index = this.deps.openIndex();
    this.bytes = this.index.totalBytes();
    this.accepting = true;
    await this.enforceQuota();
    this.deps.log.info({ dir: this.dir, bytes: this.bytes, quotaBytes: this.deps.config.quotaBytes }, 'evidence store started');
  }

  /** Never throws, never waits: the pipeline calls it for every verdict. */
  record(input: { verdict: Verdict; frame?: RgbImage; mask?: NonNullable<DetectResult['mask']> }): void {
    try {
      if (!this.accepting) {
        this.dropped += 1;
        return;
      }
      this.history.add(historyRow(input.verdict));
      const reason = this.policy.decide(input.verdict);
      if (reason === null || !input.frame) return;
      if (this.queue.length >= this.deps.config.queueCapacity) {
        this.dropped += 1;
        return;
      }
      this.queue.push({
        verdict: input.verdict,
        reason,
        // kept as given, not copied, until written: images are never written to once made (RgbImage)
        frame: input.frame,
        ...(input.mask ? { mask: input.mask } : {}),
        modelVersion: this.deps.modelVersionOf?.(input.verdict.modelComponent) ?? null,
      });
      this.kick();
    } catch (err) {
      this.recordErrors += 1;
      this.deps.log.warn({ err, verdictId: input.verdict.id }, 'evidence record failed');
    }
  }

  /** Resolves once every queued frame is written and the history buffer is flushed. */
  async drained(): Promise<void> {
    while (this.working) await this.working;
    this.history.flush();
  }

  async stop(reason = 'stop'): Promise<void> {
    this.accepting = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_DEADLINE_MS);
    });
    const outcome = await Promise.race([this.drained().then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.dropped += this.queue.splice(0).length;
      this.deps.log.warn({ reason }, 'evidence store stopped before its queue drained; the rest was dropped');
    }
    this.history.stop();
    this.index?.close();
    this.index = undefined;
    this.deps.log.info({ reason }, 'evidence store stopped');
  }

  stats(): EvidenceStats {
    const counts = this.index?.counts() ?? { kept: 0, unreviewed: 0 };
    return {
      kept: counts.kept,
      unreviewed: counts.unreviewed,
      bytes: this.bytes,
      quotaBytes: this.deps.config.quotaBytes,
      historyDropped: this.history.dropped,
      evicted: this.evicted,
      ...this.status(),
    };
  }

  /** The counters kept in memory (no database read): cheap enough for every status request. */
  status(): EvidenceStatus {
    return { queued: this.queue.length, dropped: this.dropped, writeErrors: this.writeErrors + this.recordErrors, skipped: this.policy.skipped() };
  }

  get(id: string): EvidenceRecord | undefined {
    return this.requireIndex().get(id);
  }

  list(query: EvidenceQuery): EvidenceRecord[] {
    return this.requireIndex().list(query);
  }

  audit(id: string): ReviewAudit[] {
    return this.requireIndex().audit(id);
  }

  iterateHistory(query: HistoryQuery): Iterable<HistoryRow> {
    this.history.flush();
    return this.requireIndex().iterateHistory(query);
  }

  rollups(query: HistoryQuery): { counts: RollupCounts[]; classes: RollupClass[] } {
    this.history.flush();
    return this.requireIndex().rollups(query);
  }

  /** The stored JPEG, or the mask PNG (the reviewer's when painted, else the model's; `model` forces the latter). */
  async readFile(id: string, which: 'frame' | 'mask' | 'model-mask'): Promise<Buffer> {
    const record = this.get(id);
    if (!record) throw new LookoutError('EVIDENCE_NOT_FOUND', `no kept frame ${id}`, { details: { id } });
    const rel = which === 'frame' ? record.framePath : which === 'mask' ? (record.reviewMaskPath ?? record.maskPath) : record.maskPath;
    if (!rel) throw new LookoutError('EVIDENCE_NOT_FOUND', `kept frame ${id} has no ${which === 'frame' ? 'frame' : 'mask'}`, { details: { id } });
    try {
      return await readFile(join(this.dir, rel));
    } catch (err) {
      throw new LookoutError('EVIDENCE_NOT_FOUND', `the file of kept frame ${id} is gone`, { cause: err, details: { id } });
    }
  }

  /** Stores an operator's decision with its audit row; a painted mask replaces the model's for export. */
  async review(id: string, input: ReviewInput): Promise<{ record: EvidenceRecord; audit: ReviewAudit }> {
    const index = this.requireIndex();
    const record = index.get(id);
    if (!record) throw new LookoutError('EVIDENCE_NOT_FOUND', `no kept frame ${id}`, { details: { id } });
    let reviewMaskPath: string | undefined;
    let addedBytes = 0;
    let maskSource: 'model' | 'reviewer' | null = null;
    if (input.label === 'anomaly') {
      if (input.maskPng) {
        const mask = await this.deps.codec.decodeMask(input.maskPng, { width: record.width, height: record.height });
        const png = await this.deps.codec.encodePng(mask);
        reviewMaskPath = record.framePath.replace(/\.jpg$/, '.review.png');
        await writeFile(join(this.dir, reviewMaskPath), png);
        // A repeated paint overwrites the same file: count only the growth.
        addedBytes = record.reviewMaskPath ? 0 : png.length;
        maskSource = 'reviewer';
      } else if (input.acceptMask !== false) {
        maskSource = record.reviewMaskPath ? 'reviewer' : record.maskPath ? 'model' : null;
      }
    }
    const audit = index.review({
      id,
      label: input.label,
      maskSource,
      ...(reviewMaskPath ? { reviewMaskPath } : {}),
      addedBytes,
      reviewer: input.reviewer ?? 'operator',
      at: this.now(),
    });
    if (!audit) throw new LookoutError('EVIDENCE_NOT_FOUND', `kept frame ${id} was evicted during review`, { details: { id } });
    this.bytes += addedBytes;
    this.deps.log.info({ id, label: input.label, previous: audit.previousLabel, reviewer: audit.reviewer, maskSource }, 'evidence reviewed');
    return { record: index.get(id)!, audit };
  }

  private requireIndex(): EvidenceIndex {
    if (!this.index) throw new LookoutError('EVIDENCE_UNAVAILABLE', 'the evidence store is not started');
    return this.index;
  }

  private kick(): void {
    if (this.working) return;
    this.working = this.work().finally(() => {
      this.working = undefined;
    });
  }

  private async work(): Promise<void> {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      try {
        await this.persist(item);
      } catch (err) {
        this.writeErrors += 1;
        // A full or read-only disk fails every frame: log the first and then every 100th.
        if (this.writeErrors === 1 || this.writeErrors % 100 === 0) {
          this.deps.log.warn({ err, verdictId: item.verdict.id, camera: item.verdict.cameraId, writeErrors: this.writeErrors }, 'evidence write failed');
        }
      }
    }
    this.history.flush();
  }

  private async persist(item: Pending): Promise<void> {
    const index = this.index;
    if (!index) return;
    const { verdict, frame, mask } = item;
    const jpeg = await this.deps.codec.encodeJpeg(frame, this.deps.config.jpegQuality);
    const maskPng = mask ? await this.deps.codec.encodePng(mask) : undefined;
    const day = new Date(verdict.capturedAt).toISOString().slice(0, 10);
    const stem = join('frames', day, safeStem(verdict.id));
    const framePath = `${stem}.jpg`;
    const maskPath = maskPng ? `${stem}.mask.png` : null;
    const bytes = jpeg.length + (maskPng?.length ?? 0);
    let inserted: boolean;
    try {
      await mkdir(dirname(join(this.dir, framePath)), { recursive: true });
      await writeFile(join(this.dir, framePath), jpeg);
      if (maskPng && maskPath) await writeFile(join(this.dir, maskPath), maskPng);
      inserted = index.insert({
        verdict,
        modelVersion: item.modelVersion,
        reason: item.reason,
        keptAt: this.now(),
        width: frame.width,
        height: frame.height,
        framePath,
        maskPath,
        bytes,
      });
    } catch (err) {
      // Leave no file the index does not know (it would escape the quota).
      await Promise.all([framePath, maskPath].map((f) => (f ? rm(join(this.dir, f), { force: true }).catch(() => undefined) : undefined)));
      throw err;
    }
    if (!inserted) return; // the same verdict twice: the files were rewritten with identical content
    this.bytes += bytes;
    await this.enforceQuota();
  }

  private async enforceQuota(): Promise<void> {
    const index = this.index;
    if (!index) return;
    while (this.bytes > this.deps.config.quotaBytes) {
      const candidates = index.evictionCandidates(EVICT_BATCH);
      if (candidates.length === 0) break;
      const gone: string[] = [];
      for (const c of candidates) {
        if (this.bytes <= this.deps.config.quotaBytes) break;
        await Promise.all(c.files.map((f) => rm(join(this.dir, f), { force: true })));
        gone.push(c.id);
        this.bytes -= c.bytes;
        this.evicted += 1;
      }
      index.delete(gone);
    }
  }
}
