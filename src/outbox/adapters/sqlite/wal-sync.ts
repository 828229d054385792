import { closeSync, constants, existsSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { LookoutError } from '../../../core/errors.js';

/**
 * The fsync that `synchronous = FULL` does after every WAL commit, done on libuv's thread pool instead
 * of inside the commit, so a group commit does not hold the event loop while the disk syncs.
 *
 * SQLite documents FULL in WAL mode as NORMAL plus one sync of the WAL file after each commit. A
 * commit under NORMAL has written its frames to the WAL file (the OS page cache) when it returns;
 * fsync of that file then makes them durable, exactly as FULL would (this build of SQLite syncs with
 * fsync too), before anyone is told.
 * Checkpoints keep SQLite's own syncs either way. The WAL's directory entry is synced once at open,
 * as SQLite does on the first sync of a new WAL file.
 *
 * While a WalSync is open the connection runs at `synchronous = NORMAL` and every commit that needs
 * durability is followed by sync() (or syncNow()); commits that do not (delivery bookkeeping) are not.
 *
 * sync() resolves once every commit that returned before the call is on disk. Calls that arrive while
 * a sync runs share one more sync after it (that one may have started before their commit wrote).
 */
export class WalSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly fd: number) {}

  /** The WAL of an open WAL-mode database; undefined when it has none on disk (`:memory:`). */
  static open(dbPath: string): WalSync | undefined {
    const walPath = `${dbPath}-wal`;
    if (dbPath === ':memory:' || !existsSync(walPath)) return undefined;
    const dir = openSync(dirname(walPath), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return new WalSync(openSync(walPath, constants.O_RDONLY | constants.O_NOFOLLOW));
  }

  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const next = this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    this.next = next;
    return next;
  }

  /** The same sync, now, on the calling thread: for the synchronous enqueue path. */
  syncNow(): void {
    if (this.closed) throw new LookoutError('OUTBOX_UNAVAILABLE', 'outbox closed before its commit was synced');
    fsyncSync(this.fd);
  }

  /** Closes the file once the syncs already asked for have run. */
  async close(): Promise<void> {
    this.closed = true;
    await (this.next ?? this.running)?.catch(() => undefined);
    closeSync(this.fd);
  }

  private start(): Promise<void> {
    if (this.closed) return Promise.reject(new LookoutError('OUTBOX_UNAVAILABLE', 'outbox closed before its commit was synced'));
    const run = new Promise<void>((resolve, reject) => fsync(this.fd, (err) => (err ? reject(err) : resolve()))).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
