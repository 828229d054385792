import { z } from 'zod';
import { byteSize, durationMs, positiveInt } from './common.js';

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
  })
  .prefault({});
export type OutboxConfig = z.infer<typeof outboxSchema>;
