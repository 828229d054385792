import { z } from 'zod';
import { byteSize, durationMs, positiveInt } from './common.js';

/**
 * When the outbox counts as writable again after its disk refused a write or ran low on space
 * (src/outbox/writability.ts): `writes` successful writes in a row, the first and last at least
 * `windowMs` apart, with at least `minFreeBytes` free on the outbox's filesystem. Free space is read
 * every `probeIntervalMs`; while not writable the outbox also tries a tiny write at that interval.
 * `minFreeBytes: 0` turns the free-space floor off.
 */
export const outboxRecoverySchema = z
  .strictObject({
    writes: z.number().int().min(2).max(1_000).default(5),
    windowMs: z.number().int().min(1_000).max(600_000).default(10_000),
    probeIntervalMs: z.number().int().min(100).max(60_000).default(1_000),
    minFreeBytes: byteSize.default(64 * 1024 * 1024),
  })
  .prefault({});
export type OutboxRecoveryConfig = z.infer<typeof outboxRecoverySchema>;

export const outboxSchema = z
  .strictObject({
    path: z.string().min(1).default('.lookout-edge/outbox.sqlite'),
    maxBytes: byteSize.default(256 * 1024 * 1024),
    maxRows: positiveInt.default(1_000_000),
    maxAgeMs: z.number().int().positive().default(7 * 86_400_000),
    batchSize: positiveInt.max(1_000).default(100),
    /**
     * SQLite `synchronous` in WAL mode. FULL (default) fsyncs the WAL at every commit, so an
     * acknowledged verdict survives power loss; NORMAL survives kill -9 but may lose the last
     * commits on power loss. See src/outbox/adapters/sqlite/open-database.ts.
     */
    synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
    /** How often messages older than maxAgeMs are removed. */
    expireIntervalMs: durationMs.default(30_000),
    retry: z
      .strictObject({
        initialBackoffMs: durationMs.default(200),
        maxBackoffMs: durationMs.default(60_000),
      })
      .prefault({}),
    recovery: outboxRecoverySchema,
  })
  .prefault({});
export type OutboxConfig = z.infer<typeof outboxSchema>;
