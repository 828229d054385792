import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../core/errors.js';
import { DEFAULT_SHM_DIR, shmOpenName } from '../edge-agent/shm-names.js';

/**
 * The client's POSIX shared-memory segments, without mmap: on Linux shm_open("/x") is the file
 * /dev/shm/x on a tmpfs, so positional write/read on that file is a plain memory copy by the kernel.
 * A segment is reused across calls and grows (never shrinks) when a bigger image comes along.
 * Each in-flight call holds its own segment (a lease), so overlapping calls never share bytes; the
 * pool is bounded and a call that finds every segment busy gets none (it goes inline, counted).
 */

const GROW_STEP = 1024 * 1024;
/**
 * Copies up to this size run synchronously: a tmpfs copy this small costs less than a round trip through
 * libuv's thread pool on a busy machine. Bigger ones (4096x4096 is 48 MiB) go through the pool so that
 * the event loop is not held while they are copied.
 */
export const SYNC_IO_MAX_BYTES = 8 * 1024 * 1024;
const PAGE = 4096;

/** Segments still on disk, unlinked best-effort if the process exits without stop(). */
const live = new Set<string>();
let exitHookInstalled = false;
function trackForExit(path: string): void {
  live.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) {
      try {
        unlinkSync(p);
      } catch {
        // already gone
      }
    }
  });
}

export function alignUp(n: number, to = PAGE): number {
  return Math.ceil(n / to) * to;
}

export class ShmSegment {
  private capacity = 0;
  constructor(
    /** The shm_open name: a leading slash, then the file name under the shm directory. */
    readonly name: string,
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  get size(): number {
    return this.capacity;
  }

  /** Grows the segment to hold at least `bytes`. */
  async reserve(bytes: number): Promise<void> {
    if (bytes <= this.capacity) return;
    const next = Math.ceil(bytes / GROW_STEP) * GROW_STEP;
    await this.file.truncate(next);
    this.capacity = next;
  }

  async write(bytes: Uint8Array, offset: number): Promise<void> {
    const sync = bytes.length <= SYNC_IO_MAX_BYTES;
    let done = 0;
    while (done < bytes.length) {
      done += sync
        ? writeSync(this.file.fd, bytes, done, bytes.length - done, offset + done)
        : (await this.file.write(bytes, done, bytes.length - done, offset + done)).bytesWritten;
    }
  }

  async read(length: number, offset: number): Promise<Buffer> {
    if (offset + length > this.capacity) throw new LookoutError('INFERENCE_FAILED', `mask range ${offset}+${length} lies outside segment ${this.name}`);
    const out = Buffer.allocUnsafe(length);
    const sync = length <= SYNC_IO_MAX_BYTES;
    let done = 0;
    while (done < length) {
      const n = sync ? readSync(this.file.fd, out, done, length - done, offset + done) : (await this.file.read(out, done, length - done, offset + done)).bytesRead;
      if (n === 0) throw new LookoutError('INFERENCE_FAILED', `segment ${this.name} is shorter than expected`);
      done += n;
    }
    return out;
  }

  /** Unlinks at once (synchronously), then closes. */
  async destroy(): Promise<void> {
    live.delete(this.path);
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
    await this.file.close().catch(() => undefined);
  }
}

export interface ShmLease {
  readonly segment: ShmSegment;
  /**
   * Returns the segment to the pool, or with `discard` removes it: after a call that failed or timed out
   * the agent may still read or write it, so it must not serve the next call.
   */
  release(discard?: boolean): void;
}

export interface ShmPoolOptions {
  readonly dir?: string;
  /** Segments at most, i.e. shm calls in flight at once. */
  readonly maxSegments?: number;
  /** Name prefix; the pid and 128 random bits follow. */
  readonly prefix?: string;
}

/**
 * `<prefix>-<pid>-<32 hex digits>`: the pid tells whose a leftover segment was; the random part keeps another
 * local user from guessing the next name and creating it first (our O_EXCL create would then fail, or a
 * careless create would write into their file).
 */
function segmentName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(16).toString('hex')}`;
}

export class ShmPool {
  private readonly free: ShmSegment[] = [];
  private readonly all = new Set<ShmSegment>();
  private closed = false;
  /** Segments being created right now: they count against the bound. */
  private creating = 0;

  constructor(private readonly options: ShmPoolOptions = {}) {}

  get dir(): string {
    return this.options.dir ?? DEFAULT_SHM_DIR;
  }

  /** Whether segments can be created here at all (creates and removes a probe file). */
  static probe(dir = DEFAULT_SHM_DIR): boolean {
    const path = join(dir, segmentName('lookout-edge-probe'));
    try {
      closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600));
      unlinkSync(path);
      return true;
    } catch {
      return false;
    }
  }

  /** A segment of at least `bytes` for one call, or undefined when all are busy. */
  async acquire(bytes: number): Promise<ShmLease | undefined> {
    if (this.closed) throw new LookoutError('SHM_UNAVAILABLE', 'shared memory pool is closed');
    let segment = this.free.pop();
    if (!segment) {
      if (this.all.size + this.creating >= (this.options.maxSegments ?? 4)) return undefined;
      this.creating++;
      try {
        segment = await this.create();
      } finally {
        this.creating--;
      }
    }
    try {
      await segment.reserve(bytes);
    } catch (err) {
      this.all.delete(segment);
      await segment.destroy();
      throw new LookoutError('SHM_UNAVAILABLE', `cannot grow shared memory segment ${segment.name} to ${bytes} bytes`, { cause: err });
    }
    const seg = segment;
    let released = false;
    return {
      segment: seg,
      release: (discard = false) => {
        if (released) return;
        released = true;
        if (this.closed || discard) {
          this.all.delete(seg);
          void seg.destroy();
        }
        else this.free.push(seg);
      },
    };
  }

  private async create(): Promise<ShmSegment> {
    const base = segmentName(this.options.prefix ?? 'lookout-edge');
    const path = join(this.dir, base);
    let file: FileHandle;
    try {
      file = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw new LookoutError('SHM_UNAVAILABLE', `cannot create shared memory segment ${path}`, { cause: err });
    }
    trackForExit(path);
    const segment = new ShmSegment(shmOpenName(base), path, file);
    this.all.add(segment);
    return segment;
  }

  /** Segments currently on disk (for tests and stats). */
  segments(): readonly ShmSegment[] {
    return [...this.all];
  }

  /** Unlinks every segment; segments still leased are removed when released. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.free.splice(0);
    for (const s of idle) this.all.delete(s);
    await Promise.all(idle.map((s) => s.destroy()));
  }
}
