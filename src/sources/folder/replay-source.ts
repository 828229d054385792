import { readdir, realpath } from 'node:fs/promises';
import { LookoutError, toLookoutError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import type { FolderSourceConfig } from '../../config/slices/sources.js';
import type { FrameSource, FrameSourceDeps, SourceHealth } from '../frame-source.js';
import { sleep } from '../../core/deadline.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import { encodedFrame, handOff } from '../core/frames.js';
import { SourceSupervisor, type SessionContext } from '../core/source-supervisor.js';
import { checkInside, hasExtension, isSafeName, readRegularFile } from './safe-files.js';

export interface ReplaySourceDeps extends FrameSourceDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly config: FolderSourceConfig;
  readonly maxBytes: number;
}

/**
 * The demo's camera: loops over the folder's images (sorted by name) forever, one every
 * `intervalMs`, never moving or changing them. The listing is read again at each lap, so images
 * added or removed show up on the next lap. Unsafe entries (escaping symlinks) are skipped.
 */
export class ReplaySource implements FrameSource {
  readonly cameraId: string;
  private readonly supervisor: SourceSupervisor;
  private playlist: string[] = [];
  private index = 0;

  constructor(private readonly deps: ReplaySourceDeps) {
    this.cameraId = deps.cameraId;
    this.supervisor = new SourceSupervisor({ cameraId: deps.cameraId, backoff: deps.backoff, log: deps.log });
  }

  async start(): Promise<void> {
    if (this.deps.freeRunning) this.supervisor.run((ctx) => this.session(ctx));
    else this.supervisor.ready();
  }

  stop(reason?: string): Promise<void> {
    return this.supervisor.stop(reason);
  }

  health(): SourceHealth {
    return this.supervisor.snapshot();
  }

  async capture(partId?: string): Promise<Frame> {
    try {
      const frame = await this.next(partId);
      this.supervisor.health.frame(frame.capturedAt);
      return frame;
    } catch (err) {
      const e = toLookoutError(err, 'SOURCE_UNAVAILABLE');
      this.supervisor.recordError(e);
      throw e;
    }
  }

  private async session(ctx: SessionContext): Promise<void> {
    while (!ctx.signal.aborted) {
      const started = Date.now();
      const frame = await this.next();
      ctx.connected();
      ctx.delivered(frame.capturedAt);
      void handOff(this.deps.onFrame, frame, this.deps.log);
      await sleep(Math.max(0, this.deps.config.intervalMs - (Date.now() - started)), ctx.signal);
    }
  }

  private async next(partId?: string): Promise<Frame> {
    if (this.index >= this.playlist.length) {
      this.playlist = await this.list();
      this.index = 0;
    }
    const name = this.playlist[this.index];
    this.index += 1;
    if (name === undefined) throw new LookoutError('SOURCE_UNAVAILABLE', `no images to replay in ${this.deps.config.path}`);
    const dir = await realpath(this.deps.config.path);
    let bytes: Buffer;
    try {
      ({ bytes } = await readRegularFile(dir, name, this.deps.maxBytes));
    } catch (err) {
      if ((err as LookoutError).code !== 'FRAME_TOO_LARGE') throw err;
      this.supervisor.health.drop();
      throw new LookoutError('FRAME_TOO_LARGE', (err as Error).message, { retryable: true });
    }
    const at = Date.now();
    return encodedFrame(this.supervisor.nextFrameId(at), this.cameraId, at, bytes, name, partId);
  }

  private async list(): Promise<string[]> {
    let dir: string;
    let names: string[];
    try {
      dir = await realpath(this.deps.config.path);
      names = await readdir(dir);
    } catch (err) {
      throw new LookoutError('SOURCE_UNAVAILABLE', `folder ${this.deps.config.path} is not readable: ${(err as Error).message}`, { cause: err });
    }
    const out: string[] = [];
    for (const name of names.sort()) {
      if (!isSafeName(name) || !hasExtension(name, this.deps.config.extensions)) continue;
      try {
        if ((await checkInside(dir, name)).kind === 'file') out.push(name);
      } catch {
        this.deps.log.warn({ file: name }, 'replay skips an entry that leaves the folder');
      }
    }
    return out;
  }
}
