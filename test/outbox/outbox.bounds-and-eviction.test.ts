import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { type SqliteOutboxConfig, SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { OUTBOX_MIGRATIONS } from '../../src/outbox/adapters/sqlite/migrations.js';
import { openSqlConnection } from '../../src/sqlite/adapters/libsql-connection.js';

const log = createLogger('silent');
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-outbox-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(overrides: Partial<SqliteOutboxConfig> = {}, now?: () => number): Promise<SqliteOutbox> {
  n += 1;
  const outbox = new SqliteOutbox({
    config: { path: join(dir, `o${n}.sqlite`), maxBytes: 1 << 26, maxRows: 1_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0, ...overrides },
    log,
    ...(now ? { now } : {}),
  });
  await outbox.start();
  return outbox;
}

const msg = (id: string, priority: 'reject' | 'normal' = 'normal', size = 10, createdAt?: number) => ({
  id,
  topic: `lookout/t/cam1/${priority === 'reject' ? 'reject' : 'verdict'}`,
  payload: Buffer.alloc(size, 97),
  priority,
  ...(createdAt !== undefined ? { createdAt } : {}),
});

describe('SQLite outbox', () => {
  it('opens in WAL mode with the chosen synchronous level and the newest migration', async () => {
    const outbox = await open();
    const path = join(dir, `o${n}.sqlite`);
    await outbox.stop();
    const db = openSqlConnection(path, { busyTimeoutMs: 1_000, readonly: true });
    expect(db.pragmaValue('journal_mode')).toBe('wal');
    expect(db.pragmaValue('user_version')).toBe(OUTBOX_MIGRATIONS.at(-1)?.version);
    db.close();
  });

  it('refuses a database a newer program migrated (a downgrade) and leaves it as it was', async () => {
    const outbox = await open();
    const path = join(dir, `o${n}.sqlite`);
    outbox.enqueue(msg('kept'));
    await outbox.stop();
    const newer = (OUTBOX_MIGRATIONS.at(-1)?.version ?? 0) + 1;
    const db = openSqlConnection(path, { busyTimeoutMs: 1_000 });
    db.setPragma(`user_version = ${newer}`);
    db.close();
    const old = new SqliteOutbox({ config: { path, maxBytes: 1 << 26, maxRows: 1_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await old.start(); // the outbox stays up, refusing writes, as for any database it cannot open
    const refused = (() => {
      try {
        old.enqueue(msg('after'));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    await old.stop();
    expect(isLookoutError(refused, 'OUTBOX_UNAVAILABLE')).toBe(true);
    expect((refused as Error).message).toMatch(new RegExp(`schema version ${newer}, newer than this program's`));
    const after = openSqlConnection(path, { busyTimeoutMs: 1_000, readonly: true });
    expect(after.pragmaValue('user_version')).toBe(newer);
    expect(after.prepare<{ id: string }>('SELECT id FROM messages').all().map((r) => r.id)).toEqual(['kept']);
    after.close();
  });

  it('keeps enqueue order, ignores a repeated id, and survives close/reopen', async () => {
    const outbox = await open();
    outbox.enqueue(msg('a'));
    outbox.enqueueMany([msg('b'), msg('c', 'reject')]);
    outbox.enqueue(msg('a'));
    expect(outbox.stats().depth).toBe(3);
    await outbox.stop();
    const again = new SqliteOutbox({ config: { path: join(dir, `o${n}.sqlite`), maxBytes: 1 << 26, maxRows: 1_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await again.start();
    expect(again.readBatch(10).map((m) => [m.id, m.priority])).toEqual([
      ['a', 'normal'],
      ['b', 'normal'],
      ['c', 'reject'],
    ]);
    expect(again.stats()).toMatchObject({ depth: 3, bytes: 30, writable: true });
    await again.stop();
  });

  it('when full by rows, evicts the oldest normal messages first, keeps rejects, and counts every eviction', async () => {
    const outbox = await open({ maxRows: 5 });
    outbox.enqueue(msg('r1', 'reject'));
    for (const id of ['n1', 'n2', 'n3', 'n4']) outbox.enqueue(msg(id));
    outbox.enqueue(msg('n5'));
    outbox.enqueue(msg('r2', 'reject'));
    expect(outbox.readBatch(10).map((m) => m.id)).toEqual(['r1', 'n3', 'n4', 'n5', 'r2']);
    expect(outbox.stats().evictions).toBe(2);
    // Only rejects left: the oldest reject goes.
    const rejectsOnly = await open({ maxRows: 2 });
    rejectsOnly.enqueue(msg('r1', 'reject'));
    rejectsOnly.enqueue(msg('r2', 'reject'));
    rejectsOnly.enqueue(msg('r3', 'reject'));
    expect(rejectsOnly.readBatch(10).map((m) => m.id)).toEqual(['r2', 'r3']);
    expect(rejectsOnly.stats().evictions).toBe(1);
    await outbox.stop();
    await rejectsOnly.stop();
  });

  it('when full by bytes, evicts enough normal messages to fit; refuses with OUTBOX_FULL what can never fit', async () => {
    const outbox = await open({ maxBytes: 100 });
    for (const id of ['a', 'b', 'c', 'd']) outbox.enqueue(msg(id, 'normal', 25));
    outbox.enqueue(msg('big', 'reject', 60));
    expect(outbox.readBatch(10).map((m) => m.id)).toEqual(['d', 'big']);
    expect(outbox.stats()).toMatchObject({ bytes: 85, evictions: 3 });
    const err = (() => {
      try {
        outbox.enqueue(msg('huge', 'normal', 101));
      } catch (e) {
        return e;
      }
    })();
    expect(isLookoutError(err, 'OUTBOX_FULL')).toBe(true);
    expect(outbox.readBatch(10).map((m) => m.id)).toEqual(['d', 'big']);
    await outbox.stop();
  });

  it('expires messages older than maxAgeMs, counts them as evictions, and reports the oldest age', async () => {
    let now = 1_000_000;
    const outbox = await open({ maxAgeMs: 10_000 }, () => now);
    outbox.enqueue(msg('old1', 'normal', 10, now - 20_000));
    outbox.enqueue(msg('old2', 'reject', 10, now - 15_000));
    outbox.enqueue(msg('fresh', 'normal', 10, now - 1_000));
    expect(outbox.stats().oldestAgeMs).toBe(20_000);
    expect(outbox.expire()).toBe(2);
    expect(outbox.readBatch(10).map((m) => m.id)).toEqual(['fresh']);
    now += 500;
    expect(outbox.stats()).toMatchObject({ depth: 1, evictions: 2, expired: 2, oldestAgeMs: 1_500 });
    await outbox.stop();
  });

  it('refuses malformed and oversized messages with PAYLOAD_INVALID and writes nothing', async () => {
    const outbox = await open();
    const attempts: unknown[] = [
      { id: '', topic: 't', payload: Buffer.from('x'), priority: 'normal' },
      { id: 'x', topic: 'a/+/b', payload: Buffer.from('x'), priority: 'normal' },
      { id: 'x', topic: 'a/b', payload: 'not a buffer', priority: 'normal' },
      { id: 'x', topic: 'a/b', payload: Buffer.alloc(128 * 1024), priority: 'normal' },
    ];
    for (const attempt of attempts) {
      let caught: unknown;
      try {
        outbox.enqueue(attempt as never);
      } catch (e) {
        caught = e;
      }
      expect(isLookoutError(caught, 'PAYLOAD_INVALID')).toBe(true);
    }
    await expect(outbox.write([msg('ok'), { ...msg('too-big'), payload: Buffer.alloc(200_000) }])).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
    expect(outbox.stats().depth).toBe(0);
    await outbox.stop();
  });

  it('group-commits concurrent write() calls into one transaction and resolves each once durable', async () => {
    const outbox = await open();
    let wakeups = 0;
    outbox.onEnqueue(() => {
      wakeups += 1;
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => outbox.write([msg(`g${i}`)])));
    expect(outbox.stats().depth).toBe(200);
    expect(wakeups).toBe(1);
    await outbox.stop();
  });

  it('stop() commits the writes already accepted, then refuses new ones with OUTBOX_UNAVAILABLE', async () => {
    const outbox = await open();
    const pending = outbox.write([msg('last-words')]);
    await outbox.stop();
    await expect(pending).resolves.toBeUndefined();
    await expect(outbox.write([msg('too-late')])).rejects.toMatchObject({ code: 'OUTBOX_UNAVAILABLE' });
    const again = new SqliteOutbox({ config: { path: join(dir, `o${n}.sqlite`), maxBytes: 1 << 26, maxRows: 1_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await again.start();
    expect(again.readBatch(10).map((m) => m.id)).toEqual(['last-words']);
    await again.stop();
  });
});
