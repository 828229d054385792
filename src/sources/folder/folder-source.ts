import { watch, type FSWatcher } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LookoutError, toLookoutError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import type { FolderSourceConfig } from '../../config/slices/sources.js';
import type { FrameSource, FrameSourceDeps, SourceHealth } from '../frame-source.js';
import { sleep, withDeadline } from '../../core/deadline.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import { encodedFrame, handOff } from '../core/frames.js';
import { SourceSupervisor, type SessionContext } from '../core/source-supervisor.js';
import { checkInside, type Entry, hasExtension, isHidden, moveNoClobber, moveOutOfInbox, readRegularFile, recoverStaged, type Stamp } from './safe-files.js';
import { OrderedMoves } from './ordered-moves.js';
import { SettleTracker } from './settle-tracker.js';

export interface FolderSourceDeps extends FrameSourceDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly config: FolderSourceConfig;
  /** Larger files go to failed/ unread (preprocess.maxInputBytes). */
  readonly maxBytes: number;
  /** How long capture() waits for a settled file before it rejects. Default settleMs + 5 s. */
  readonly captureTimeoutMs?: number;
}

/** How many frame ids markFailed() can still find (the newest). */
const REMEMBERED = 1_000;
const MIN_SCAN_GAP_MS = 20;
/**
 * A stop abandons the moves it waits on (the stall watchdog's abort), but the renames go on: the stop waits this
 * long for them, so a healthy file system is never cut mid-move and nothing writes into the folder after the stop.
 * A hung one is left behind; its file is finished from staging at the next start.
 */
const STOP_MOVE_GRACE_MS = 1_000;

/**
 * Watches a folder that cameras or PLC PCs drop JPEG/PNG files into.
 *
 * Intake contract: every settled file is read, handed to `onFrame`, and then moved — to processed/
 * when `onFrame` returned (or its promise resolved), to failed/ when it threw/rejected, when the
 * file was unreadable, too large, or a path escape. Files are never deleted and never overwritten
 * (collisions get `-1`, `-2`… suffixes). If `onFrame` returns a promise, the file is moved once it
 * settles; up to `lookahead` files are in the pipeline at once, and they are moved in the order they
 * were read: intake is lossless and ordered oldest-first. `markFailed(frameId)` moves an already processed
 * file to failed/ (the pipeline calls it when preprocessing fails after a synchronous handoff).
 * A crash before the move leaves the file in the inbox, so it is read again: at-least-once.
 *
 * Every file-system step (listing, read, move) runs under a watchdog: one that takes longer than
 * `stallTimeoutMs` (a hung network mount, a worker thread blocked for good) marks the camera stalled
 * and restarts the session, instead of leaving it "streaming" while nothing moves. Files are opened
 * without following links and without blocking, and checked after opening (see readRegularFile).
 */
export class FolderSource implements FrameSource {
  readonly cameraId: string;
  private readonly supervisor: SourceSupervisor;
  private readonly settle: SettleTracker;
  private readonly inFlight = new Set<string>();
  /** Moves out of the inbox still running, abandoned or not. */
  private readonly moving = new Set<Promise<unknown>>();
  /** What each in-flight file looked like when read (a rewrite in place sends it back to the inbox). */
  private readonly stamps = new Map<string, Stamp>();
  private readonly processed = new Map<string, string>();
  private readonly processedDir: string;
  private readonly failedDir: string;
  private readonly scanMs: number;
  private dirReal: string | undefined;
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;
  private captureChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: FolderSourceDeps) {
    this.cameraId = deps.cameraId;
    this.supervisor = new SourceSupervisor({ cameraId: deps.cameraId, backoff: deps.backoff, log: deps.log });
    this.settle = new SettleTracker(deps.config.settleMs);
    const root = resolve(deps.config.path);
    this.processedDir = resolve(deps.config.processedDir ?? join(root, 'processed'));
    this.failedDir = resolve(deps.config.failedDir ?? join(root, 'failed'));
    this.scanMs = Math.min(1_000, Math.max(50, Math.floor(deps.config.settleMs / 2)));
  }

  async start(): Promise<void> {
    if (this.deps.freeRunning) {
      this.supervisor.run((ctx) => this.session(ctx));
      return;
    }
    try {
      await this.open();
      this.supervisor.ready();
    } catch (err) {
      this.supervisor.recordError(toLookoutError(err, 'SOURCE_UNAVAILABLE'));
      this.supervisor.setState('backing-off');
    }
  }

  async stop(reason?: string): Promise<void> {
    this.closeWatcher();
    this.wake?.();
    await this.supervisor.stop(reason);
    await this.captureChain.catch(() => undefined);
    await withDeadline(Promise.allSettled([...this.moving]), STOP_MOVE_GRACE_MS, 'folder moves', 'SOURCE_STALLED').catch(() => undefined);
  }

  health(): SourceHealth {
    return this.supervisor.snapshot();
  }

  /** The oldest settled file, moved to processed/ as it is returned. Waits up to captureTimeoutMs. */
  capture(partId?: string): Promise<Frame> {
    const next = this.captureChain.then(() => this.captureOne(partId));
    this.captureChain = next.catch(() => undefined);
    return next;
  }

  /** Moves the file of an already processed frame to failed/. False when it is unknown or gone. */
  async markFailed(frameId: string): Promise<boolean> {
    const path = this.processed.get(frameId);
    if (!path) return false;
    this.processed.delete(frameId);
    try {
      await moveNoClobber(path, this.failedDir);
      return true;
    } catch (err) {
      this.deps.log.warn({ frameId, err: (err as Error).message }, 'could not move a processed file to failed/');
      return false;
    }
  }

  /** Runs one file-system step under the stall watchdog (and gives up on it when the source stops). */
  private guard<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.deps.config.stallTimeoutMs, `folder ${what}`, 'SOURCE_STALLED', { signal: this.supervisor.signal, abortCode: 'SOURCE_UNAVAILABLE' });
  }

  private async open(): Promise<string> {
    try {
      const dir = await this.guard(realpath(this.deps.config.path), 'open');
      const recovered = await this.guard(recoverStaged(dir, { processed: this.processedDir, failed: this.failedDir }), 'recovery');
      if (recovered > 0) this.deps.log.info({ files: recovered }, 'finished moving files an earlier run had handled');
      this.dirReal = dir;
      return dir;
    } catch (err) {
      if (err instanceof LookoutError) throw err;
      throw new LookoutError('SOURCE_UNAVAILABLE', `folder ${this.deps.config.path} is not readable: ${(err as Error).message}`, { cause: err });
    }
  }

  private async captureOne(partId?: string): Promise<Frame> {
    const deadline = Date.now() + (this.deps.captureTimeoutMs ?? this.deps.config.settleMs + 5_000);
    try {
      const dir = this.dirReal ?? (await this.open());
      for (;;) {
        const ready = await this.guard(this.scan(dir), 'listing');
        for (const name of ready) {
          const frame = await this.read(dir, name, partId);
          if (!frame) continue;
          await this.finish(dir, name, frame.id, true);
          return frame;
        }
        if (Date.now() >= deadline || this.supervisor.stopping) {
          throw new LookoutError('SOURCE_UNAVAILABLE', 'no settled file in the folder to capture');
        }
        await sleep(this.scanMs, this.supervisor.signal);
      }
    } catch (err) {
      const e = toLookoutError(err, 'SOURCE_UNAVAILABLE');
      this.supervisor.recordError(e);
      throw e;
    }
  }

  private async session(ctx: SessionContext): Promise<void> {
    // a step abandoned by the watchdog may still hold its name: the new session starts afresh
    this.inFlight.clear();
    this.stamps.clear();
    const dir = await this.open();
    this.openWatcher(dir);
    const moves = new OrderedMoves(Math.max(1, this.deps.lookahead ?? 1), (d, name, frame, ok) => this.finish(d, name, frame.id, ok), (frame) =>
      handOff(this.deps.onFrame, frame, this.deps.log),
    );
    try {
      ctx.connected();
      while (!ctx.signal.aborted) {
        const ready = await this.guard(this.scan(dir), 'listing');
        for (const name of ready) {
          if (ctx.signal.aborted) return;
          const frame = await this.read(dir, name);
          if (!frame) continue;
          ctx.delivered(frame.capturedAt);
          await moves.add(dir, name, frame);
        }
        await new Promise<void>((done) => {
          this.wake = done;
          void sleep(this.scanMs, ctx.signal).then(done);
        });
        this.wake = undefined;
        await sleep(MIN_SCAN_GAP_MS, ctx.signal); // a burst of watch events must not spin the loop
      }
    } finally {
      this.closeWatcher();
      // every file handed over is moved before the session ends (its verdict settles it either way)
      await moves.drain();
    }
  }

  /** Lists the folder; returns the settled candidates, oldest mtime first. */
  private async scan(dir: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      throw new LookoutError('SOURCE_UNAVAILABLE', `cannot list ${this.deps.config.path}: ${(err as Error).message}`, { cause: err });
    }
    const now = Date.now();
    const names = new Set<string>();
    const ready: { name: string; mtimeMs: number }[] = [];
    for (const name of entries) {
      // Hidden names are a writer's work in progress; any other name we will not read is refused by
      // checkInside (PATH_ESCAPE): logged once and moved to failed/, never skipped silently scan after scan.
      if (isHidden(name) || !hasExtension(name, this.deps.config.extensions) || this.inFlight.has(name)) continue;
      names.add(name);
      let info: Entry;
      try {
        info = await checkInside(dir, name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        await this.reject(dir, name, toLookoutError(err, 'PATH_ESCAPE'));
        continue;
      }
      if (info.kind === 'file' && this.settle.observe(name, info.size, info.mtimeMs, now)) ready.push({ name, mtimeMs: info.mtimeMs });
    }
    this.settle.retain(names);
    return ready.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name)).map((r) => r.name);
  }

  /** Reads one settled file into a frame; undefined (and the file in failed/) when it cannot be used. */
  private async read(dir: string, name: string, partId?: string): Promise<Frame | undefined> {
    if (this.inFlight.has(name)) return undefined; // capture() and the free-running loop raced for it
    this.inFlight.add(name);
    try {
      const { bytes, stamp } = await this.guard(readRegularFile(dir, name, this.deps.maxBytes), `read of ${name}`);
      this.stamps.set(name, stamp);
      const at = Date.now();
      return encodedFrame(this.supervisor.nextFrameId(at), this.cameraId, at, bytes, name, partId);
    } catch (err) {
      this.inFlight.delete(name);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'SOURCE_STALLED' || this.supervisor.stopping) {
        this.settle.forget(name);
        if (code === 'ENOENT') return undefined;
        throw err;
      }
      await this.reject(dir, name, toLookoutError(err, 'SOURCE_UNAVAILABLE'));
      return undefined;
    }
  }

  private async finish(dir: string, name: string, frameId: string, ok: boolean): Promise<void> {
    const read = this.stamps.get(name);
    try {
      const move = moveOutOfInbox(dir, name, ok ? 'processed' : 'failed', ok ? this.processedDir : this.failedDir, read);
      this.moving.add(move);
      void move.then(
        () => this.moving.delete(move),
        () => this.moving.delete(move),
      );
      const target = await this.guard(move, `move of ${name}`);
      if (ok && dirname(target) === this.processedDir) {
        this.processed.set(frameId, target);
        if (this.processed.size > REMEMBERED) {
          const oldest = this.processed.keys().next().value;
          if (oldest !== undefined) this.processed.delete(oldest);
        }
      }
    } catch (err) {
      if ((err as LookoutError).code === 'SOURCE_STALLED') throw err;
      this.deps.log.error({ file: name, err: (err as Error).message }, 'could not move a handled file; it stays in the inbox');
    } finally {
      this.inFlight.delete(name);
      this.stamps.delete(name);
      this.settle.forget(name);
    }
  }

  private async reject(dir: string, name: string, err: LookoutError): Promise<void> {
    this.supervisor.health.drop();
    this.supervisor.recordError(err);
    this.deps.log.warn({ file: name, code: err.code, err: err.message }, 'input moved to failed/');
    try {
      await this.guard(moveOutOfInbox(dir, name, 'failed', this.failedDir), `move of ${name}`);
    } catch (moveErr) {
      if ((moveErr as LookoutError).code === 'SOURCE_STALLED') throw moveErr;
      this.deps.log.error({ file: name, err: (moveErr as Error).message }, 'could not move a bad input to failed/');
    }
    this.settle.forget(name);
  }

  private openWatcher(dir: string): void {
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.wake?.());
      this.watcher.on('error', () => this.closeWatcher());
    } catch {
      this.watcher = undefined; // periodic scans still find every file
    }
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
