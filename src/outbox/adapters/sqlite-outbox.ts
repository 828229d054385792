import { dirname } from 'node:path';
import type { OutboxConfig } from '../../config/schema.js';
import { outboxRecoverySchema } from '../../config/slices/outbox.js';
import { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { assertPublishable } from '../../core/publish-limits.js';
import type { NewOutboxMessage, OutboxMessage, OutboxQueue, OutboxStats, StoredMessage } from '../outbox.js';
import { ackMessages } from './sqlite/ack-messages.js';
import { addToCounter, type CounterName, readCounters } from './sqlite/counters.js';
import { deadLetterMessages } from './sqlite/dead-letter-messages.js';
import { evictForRoom } from './sqlite/evict-for-room.js';
import { expireMessages } from './sqlite/expire-messages.js';
import { insertMessages } from './sqlite/insert-messages.js';
import { markFailed } from './sqlite/mark-failed.js';
import { openDatabase } from './sqlite/open-database.js';
import { readBatch } from './sqlite/read-batch.js';
import { readOldestCreatedAt, readTotals } from './sqlite/read-totals.js';
import { translateSqliteError, unwritableCause } from './sqlite/translate-sqlite-error.js';
import { writeProbe } from './sqlite/write-probe.js';
import { DiskWatch } from './disk-watch.js';
import { WalSync } from './sqlite/wal-sync.js';
import type { SqlConnection } from '../../sqlite/adapters/sql-connection.js';

export type SqliteOutboxConfig = Pick<OutboxConfig, 'path' | 'maxBytes' | 'maxRows' | 'maxAgeMs' | 'synchronous' | 'expireIntervalMs'> & {
  /** The schema's defaults when absent. */
  readonly recovery?: OutboxConfig['recovery'];
};

export interface SqliteOutboxDeps {
  readonly config: SqliteOutboxConfig;
  readonly log: Logger;
  readonly now?: () => number;
  /** After a failure, the database is reopened at most this often (ms). */
  readonly reopenIntervalMs?: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * The durable outbox on SQLite (WAL). Every write is one transaction; write() group-commits
 * the messages of one event-loop tick and, under `synchronous = FULL`, syncs the WAL off the event
 * loop (WalSync) before it resolves; enqueue()/enqueueMany() sync on the calling thread before they
 * return. When the disk refuses writes the outbox reports `writable: false` and OUTBOX_UNAVAILABLE in
 * stats().lastError, throws that code to callers, and tries to reopen the database on the next call
 * (at most every `reopenIntervalMs`). Writes that go through again do not make it writable at once:
 * src/outbox/writability.ts decides, from the writes and the free space (DiskWatch).
 */
export class SqliteOutbox implements OutboxQueue {
  private db: SqlConnection | undefined;
  /** Present when the WAL can be synced off the event loop (FULL, on disk). */
  private wal: WalSync | undefined;
  private rows = 0;
  private bytes = 0;
  private counters: Record<CounterName, number> = { evictions: 0, expired: 0, delivered: 0, dead_lettered: 0 };
  private readonly disk: DiskWatch;
  /** Writable needs the database to have opened once. */
  private opened = false;
  private lastError: OutboxStats['lastError'];
  private lastOpenAttempt = -Infinity;
  private expireTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  private pending: { messages: OutboxMessage[]; waiters: Waiter[] } | undefined;
  private stopped = false;

  constructor(private readonly deps: SqliteOutboxDeps) {
    this.disk = new DiskWatch({
      dir: dirname(deps.config.path),
      recovery: deps.config.recovery ?? outboxRecoverySchema.parse({}),
      probeWrite: () => this.withDb('probe', (db) => this.relaxed(db, () => writeProbe(db))),
      log: deps.log,
      now: () => this.now(),
    });
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.lastOpenAttempt = -Infinity;
    this.tryOpen();
    await this.disk.start();
    if (this.deps.config.expireIntervalMs > 0) {
      this.expireTimer = setInterval(() => {
        try {
          this.expire();
        } catch {
          // recorded in lastError by expire()
        }
      }, this.deps.config.expireIntervalMs);
      this.expireTimer.unref();
    }
  }

  async stop(reason = 'stop'): Promise<void> {
    // Writes already accepted in this tick still commit, and are synced before the file closes.
    await this.flushPending();
    this.stopped = true;
    if (this.expireTimer) clearInterval(this.expireTimer);
    this.expireTimer = undefined;
    await this.disk.stop();
    this.closeDb();
    this.deps.log.debug({ reason }, 'outbox closed');
  }

  enqueue(message: NewOutboxMessage): void {
    this.enqueueMany([message]);
  }

  enqueueMany(messages: readonly NewOutboxMessage[]): void {
    const full = messages.map((m) => this.normalize(m));
    this.commit(full, 'in-commit');
    this.notify();
  }

  write(messages: readonly NewOutboxMessage[]): Promise<void> {
    let full: OutboxMessage[];
    try {
      full = messages.map((m) => this.normalize(m));
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      if (!this.pending) {
        this.pending = { messages: [], waiters: [] };
        setImmediate(() => void this.flushPending());
      }
      this.pending.messages.push(...full);
      this.pending.waiters.push({ resolve, reject });
    });
  }

  readBatch(limit: number): StoredMessage[] {
    return this.withDb('read', (db) => readBatch(db, limit));
  }

  ack(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    this.withDb('ack', (db) => {
      const removed = this.relaxed(db, () => {
        const r = ackMessages(db, seqs);
        addToCounter(db, 'delivered', r.rows);
        return r;
      });
      this.applyRemoved(removed);
      this.counters.delivered += removed.rows;
    });
  }

  markFailed(seqs: readonly number[], error: LookoutError): void {
    if (seqs.length === 0) return;
    this.withDb('mark', (db) => this.relaxed(db, () => markFailed(db, seqs, error.code)));
  }

  deadLetter(seqs: readonly number[], error: LookoutError): void {
    if (seqs.length === 0) return;
    this.withDb('dead-letter', (db) => {
      const removed = this.relaxed(db, () => {
        const r = deadLetterMessages(db, seqs, error.code, this.now());
        addToCounter(db, 'dead_lettered', r.rows);
        return r;
      });
      this.applyRemoved(removed);
      this.counters.dead_lettered += removed.rows;
    });
    this.deps.log.warn({ count: seqs.length, code: error.code }, 'messages refused for good; moved to dead_letters');
  }

  expire(now = this.now()): number {
    const removed = this.withDb('expire', (db) =>
      this.relaxed(db, () => {
        const r = expireMessages(db, now - this.deps.config.maxAgeMs);
        addToCounter(db, 'expired', r.rows);
        addToCounter(db, 'evictions', r.rows);
        return r;
      }),
    );
    this.applyRemoved(removed);
    this.counters.expired += removed.rows;
    this.counters.evictions += removed.rows;
    if (removed.rows > 0) this.deps.log.warn({ count: removed.rows, maxAgeMs: this.deps.config.maxAgeMs }, 'outbox messages expired undelivered');
    return removed.rows;
  }

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): OutboxStats {
    let oldest: number | null = null;
    if (this.db && this.rows > 0) {
      try {
        oldest = readOldestCreatedAt(this.db);
      } catch {
        oldest = null;
      }
    }
    const unwritable = this.disk.state();
    return {
      depth: this.rows,
      bytes: this.bytes,
      oldestAgeMs: oldest === null ? null : Math.max(0, this.now() - oldest),
      evictions: this.counters.evictions,
      expired: this.counters.expired,
      delivered: this.counters.delivered,
      deadLettered: this.counters.dead_lettered,
      writable: this.opened && this.disk.writable,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(unwritable ? { unwritable } : {}),
    };
  }

  private normalize(m: NewOutboxMessage): OutboxMessage {
    if (typeof m.id !== 'string' || m.id.length === 0 || m.id.length > 256) {
      throw new LookoutError('PAYLOAD_INVALID', 'outbox message needs an id of 1-256 characters (the idempotency key)');
    }
    assertPublishable(m.topic, m.payload);
    return { id: m.id, topic: m.topic, payload: m.payload, priority: m.priority === 'reject' ? 'reject' : 'normal', retain: m.retain === true, createdAt: m.createdAt ?? this.now() };
  }

  /** Commits the batch of this tick; resolves (never rejects) once its waiters are settled. */
  private async flushPending(): Promise<void> {
    const batch = this.pending;
    this.pending = undefined;
    if (!batch) return;
    try {
      const wal = this.wal;
      this.commit(batch.messages, wal ? 'after-commit' : 'in-commit');
      if (wal) await this.synced(wal);
      for (const w of batch.waiters) w.resolve();
      this.notify();
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
    }
  }

  /** The WAL on disk; a failed sync degrades the outbox like a failed write. */
  private async synced(wal: WalSync): Promise<void> {
    try {
      await wal.sync();
    } catch (err) {
      const e = translateSqliteError(err, 'sync');
      this.degrade(e);
      if (this.wal === wal) this.closeDb();
      throw e;
    }
  }

  /**
   * One transaction: make room (evicting and counting), then insert. `in-commit`: durable when this
   * returns. `after-commit` (only with a WalSync): the caller syncs the WAL before telling anyone.
   */
  private commit(messages: readonly OutboxMessage[], fsync: 'in-commit' | 'after-commit'): void {
    if (messages.length === 0) return;
    if (this.stopped) throw new LookoutError('OUTBOX_UNAVAILABLE', 'the outbox is stopped');
    const { maxRows, maxBytes } = this.deps.config;
    const incomingBytes = messages.reduce((n, m) => n + m.payload.length, 0);
    const result = this.withDb('enqueue', (db) => {
      const makeRoomAndInsert = () => {
        const needRows = this.rows + messages.length - maxRows;
        const needBytes = this.bytes + incomingBytes - maxBytes;
        let evicted = { rows: 0, bytes: 0 };
        if (needRows > 0 || needBytes > 0) {
          evicted = evictForRoom(db, { rows: Math.max(0, needRows), bytes: Math.max(0, needBytes) });
          if (evicted.rows < needRows || evicted.bytes < needBytes) {
            throw new LookoutError('OUTBOX_FULL', `outbox is full (${maxRows} rows / ${maxBytes} bytes) and nothing more can be evicted`, {
              details: { maxRows, maxBytes, incomingBytes },
            });
          }
          addToCounter(db, 'evictions', evicted.rows);
        }
        const added = insertMessages(db, messages);
        return { evicted, added };
      };
      // Without a WalSync the connection's own mode syncs inside the commit.
      if (!this.wal) return db.transaction(makeRoomAndInsert);
      const out = this.relaxed(db, makeRoomAndInsert);
      if (fsync === 'in-commit') this.wal.syncNow();
      return out;
    });
    this.applyRemoved(result.evicted);
    this.counters.evictions += result.evicted.rows;
    this.rows += result.added.rows;
    this.bytes += result.added.bytes;
    if (result.evicted.rows > 0) {
      this.deps.log.warn({ evicted: result.evicted.rows, total: this.counters.evictions }, 'outbox full: evicted oldest messages');
    }
  }

  /** Durable messages are waiting: the relay wakes up. */
  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /**
   * Bookkeeping after delivery (ack, attempt counts, dead letters, expiry) commits without its own
   * fsync: if a power cut rolls it back, the message is simply sent again (at-least-once; consumers
   * drop duplicates by id). The next FULL commit (an enqueue) syncs these WAL frames too. Only
   * enqueues need the fsync, because losing one loses a verdict; a group commit gets it from WalSync.
   */
  private relaxed<T>(db: SqlConnection, fn: () => T): T {
    // With a WalSync the connection already runs at NORMAL (see tryOpen).
    if (this.wal || this.deps.config.synchronous !== 'FULL') return db.transaction(fn);
    db.setPragma('synchronous = NORMAL');
    try {
      return db.transaction(fn);
    } finally {
      db.setPragma('synchronous = FULL');
    }
  }

  private applyRemoved(removed: { rows: number; bytes: number }): void {
    this.rows = Math.max(0, this.rows - removed.rows);
    this.bytes = Math.max(0, this.bytes - removed.bytes);
  }

  private tryOpen(): SqlConnection | undefined {
    if (this.db) return this.db;
    const interval = this.deps.reopenIntervalMs ?? 1_000;
    const now = this.now();
    if (now - this.lastOpenAttempt < interval) return undefined;
    this.lastOpenAttempt = now;
    try {
      const db = openDatabase(this.deps.config.path, this.deps.config.synchronous);
      const totals = readTotals(db);
      this.rows = totals.rows;
      this.bytes = totals.bytes;
      this.counters = readCounters(db);
      try {
        this.wal = this.deps.config.synchronous === 'FULL' ? WalSync.open(this.deps.config.path) : undefined;
        // FULL's fsync is WalSync's from here on (after the commits that need it), so commits skip it
        if (this.wal) db.setPragma('synchronous = NORMAL');
      } catch (err) {
        db.close();
        throw err;
      }
      this.db = db;
      this.opened = true;
      this.deps.log.info({ path: this.deps.config.path, depth: this.rows, synchronous: this.deps.config.synchronous }, 'outbox open');
      return db;
    } catch (err) {
      this.degrade(translateSqliteError(err, 'open'));
      return undefined;
    }
  }

  private withDb<T>(action: string, fn: (db: SqlConnection) => T): T {
    const db = this.tryOpen();
    if (!db) {
      throw new LookoutError('OUTBOX_UNAVAILABLE', `outbox ${action} refused: ${this.lastError?.message ?? 'database not open'}`, {
        details: { path: this.deps.config.path },
      });
    }
    try {
      const out = fn(db);
      if (action !== 'read') this.disk.succeeded();
      return out;
    } catch (err) {
      const e = translateSqliteError(err, action);
      if (e.code === 'OUTBOX_UNAVAILABLE') {
        this.degrade(e);
        // A connection that hit an I/O error is not trusted: reopen on the next call.
        this.closeDb();
      }
      throw e;
    }
  }

  private degrade(error: LookoutError): void {
    this.lastError = { code: error.code, message: error.message, at: this.now() };
    this.disk.failed(unwritableCause(error), error);
  }

  private closeDb(): void {
    const db = this.db;
    this.db = undefined;
    void this.wal?.close().catch(() => undefined);
    this.wal = undefined;
    this.lastOpenAttempt = this.now();
    try {
      db?.close();
    } catch {
      // already broken
    }
  }
}

