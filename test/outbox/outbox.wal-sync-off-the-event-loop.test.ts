import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { WalSync } from '../../src/outbox/adapters/sqlite/wal-sync.js';
import { openSqlConnection } from '../../src/sqlite/adapters/libsql-connection.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-walsync-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const log = createLogger('silent');
const config = (path: string) => ({ path, maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL' as const, expireIntervalMs: 0 });
const msg = (id: string) => ({ id, topic: 'lookout/t/cam1/verdict', payload: Buffer.from(id), priority: 'normal' as const });

describe('group commit with the WAL synced off the event loop', () => {
  it('write() resolves once the batch is committed; a fresh connection reads it', async () => {
    const path = join(dir, 'group.sqlite');
    const outbox = new SqliteOutbox({ config: config(path), log });
    await outbox.start();
    await Promise.all(['a', 'b', 'c'].map((id) => outbox.write([msg(id)])));
    const db = openSqlConnection(path, { busyTimeoutMs: 1_000, readonly: true });
    expect(db.prepare<{ id: string }>('SELECT id FROM messages ORDER BY seq').all().map((r) => r.id)).toEqual(['a', 'b', 'c']);
    db.close();
    await outbox.stop();
  });

  it('syncs asked for while one runs share the next one; after close they are refused with OUTBOX_UNAVAILABLE', async () => {
    const path = join(dir, 'coalesce.sqlite');
    const db = openSqlConnection(path, { busyTimeoutMs: 1_000 });
    db.setPragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const wal = WalSync.open(path);
    expect(wal).toBeDefined();
    const first = wal!.sync();
    const second = wal!.sync();
    const third = wal!.sync();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
    const closing = wal!.close();
    await expect(wal!.sync()).rejects.toMatchObject({ code: 'OUTBOX_UNAVAILABLE' });
    await closing;
    db.close();
  });

  it('has nothing to sync for an in-memory database', () => {
    expect(WalSync.open(':memory:')).toBeUndefined();
  });
});
