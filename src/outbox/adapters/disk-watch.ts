import { statfs } from 'node:fs/promises';
import type { OutboxRecoveryConfig } from '../../config/slices/outbox.js';
import type { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { type Unwritable, type UnwritableCause, Writability, type WritabilityChange } from '../writability.js';

export interface DiskWatchDeps {
  /** The outbox's directory: its filesystem's free space is read with statfs. */
  readonly dir: string;
  readonly recovery: OutboxRecoveryConfig;
  /** A tiny real write, tried at every probe while not writable; it reports its own outcome. */
  readonly probeWrite: () => void;
  readonly log: Logger;
  readonly now: () => number;
}

/**
 * Feeds the outbox's Writability: the writes it reports, and the free space read every
 * `probeIntervalMs` (with a probe write while not writable, so recovery needs no traffic). Logs each
 * change once: an error when the outbox stops being writable, info when it is writable again.
 */
export class DiskWatch {
  private readonly writability: Writability;
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly deps: DiskWatchDeps) {
    this.writability = new Writability(deps.recovery);
  }

  get writable(): boolean {
    return this.writability.writable;
  }

  state(): Unwritable | undefined {
    return this.writability.state();
  }

  /** Reads the free space once, then keeps reading it at the interval. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.deps.recovery.probeIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.probing;
  }

  /** A write the disk refused (OUTBOX_UNAVAILABLE, with the cause translate-sqlite-error put on it). */
  failed(cause: UnwritableCause, error: LookoutError): void {
    const code = error.details?.sqliteCode;
    const change = this.writability.failed(cause, this.deps.now(), typeof code === 'string' ? code : undefined);
    this.report(change, error);
    // the reason names the free space: read it now rather than at the next interval
    if (change === 'down' && !this.stopped) void this.probe();
  }

  succeeded(): void {
    this.report(this.writability.succeeded(this.deps.now()));
  }

  private report(change: WritabilityChange, error?: LookoutError): void {
    if (change === 'down') {
      const reason = this.writability.state()?.reason;
      this.deps.log.error({ reason, dir: this.deps.dir, ...(error ? { err: error.toJSON() } : {}) }, `outbox not writable (${reason}): delivery is degraded`);
    } else if (change === 'up') {
      this.deps.log.info({ dir: this.deps.dir, recovery: this.deps.recovery }, 'outbox writable again');
    }
  }

  /** Never throws; one at a time. */
  private probe(): Promise<void> {
    this.probing ??= (async () => {
      try {
        const free = await freeBytes(this.deps.dir);
        if (this.stopped) return;
        if (free !== undefined) this.report(this.writability.freeSpace(free, this.deps.now()));
        if (!this.writability.writable) this.deps.probeWrite();
      } catch {
        // a refused probe write is reported like any refused write
      } finally {
        this.probing = undefined;
      }
    })();
    return this.probing;
  }
}

/** Bytes an unprivileged writer can still use on the filesystem holding `dir`; undefined if it cannot be read. */
async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
