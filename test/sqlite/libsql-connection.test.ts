import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateSqliteError } from '../../src/outbox/adapters/sqlite/translate-sqlite-error.js';
import { openSqlConnection } from '../../src/sqlite/adapters/libsql-connection.js';
import type { SqlConnection } from '../../src/sqlite/adapters/sql-connection.js';

/**
 * The SqlConnection contract on libsql, including where libsql departs from the better-sqlite3 API it
 * copies (see the list in libsql-connection.ts): each case here failed or crashed on the bare SDK.
 */
const root = new URL('../../', import.meta.url).pathname;
let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-sql-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fresh(): { db: SqlConnection; path: string } {
  const path = join(dir, `db${++n}.sqlite`);
  const db = openSqlConnection(path, { busyTimeoutMs: 200 });
  db.setPragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x)');
  return { db, path };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('SqlConnection on libsql', () => {
  it('binds a single Buffer parameter and returns BLOBs as Buffer from get, all and iterate', () => {
    const { db } = fresh();
    db.prepare('INSERT INTO t (x) VALUES (?)').run([Buffer.from('abc')]);
    const select = db.prepare<{ x: Buffer }>('SELECT x FROM t');
    expect(Buffer.isBuffer(select.get()?.x)).toBe(true);
    expect(select.all().map((r) => Buffer.isBuffer(r.x) && r.x.toString())).toEqual(['abc']);
    expect([...select.iterate()].map((r) => Buffer.isBuffer(r.x) && r.x.toString())).toEqual(['abc']);
    expect(db.prepare<{ n: number }>('SELECT length(?) AS n').get([Buffer.from('four')])?.n).toBe(4);
    db.close();
  });

  it('reads pragma values, and the synchronous level set is the one in force', () => {
    const { db } = fresh();
    expect(db.pragmaValue('journal_mode')).toBe('wal');
    db.setPragma('synchronous = FULL');
    expect(db.pragmaValue('synchronous')).toBe(2);
    db.setPragma('synchronous = NORMAL');
    expect(db.pragmaValue('synchronous')).toBe(1);
    db.setPragma('user_version = 7');
    expect(db.pragmaValue('user_version')).toBe(7);
    expect(db.pragmaValue('busy_timeout')).toBe(200);
    db.close();
  });

  it('a transaction that fills the database throws SQLITE_FULL (not a failed ROLLBACK) and leaves the connection usable', () => {
    const { db } = fresh();
    db.setPragma('max_page_count = 20');
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    let caught: unknown;
    try {
      db.transaction(() => {
        for (let i = 0; i < 100; i++) insert.run([Buffer.alloc(4_000)]);
      });
    } catch (err) {
      caught = err;
    }
    expect((caught as { code?: string }).code).toBe('SQLITE_FULL');
    expect(translateSqliteError(caught, 'enqueue')).toMatchObject({ code: 'OUTBOX_UNAVAILABLE', message: expect.stringMatching(/disk is full/) });
    expect(db.inTransaction).toBe(false);
    expect(db.transaction(() => insert.run([1]).changes)).toBe(1);
    expect(() => db.transaction(() => db.transaction(() => 1))).toThrow(/does not nest/);
    db.close();
  });

  it('close() with a transaction open releases the write lock at once', () => {
    const { db, path } = fresh();
    db.exec('BEGIN IMMEDIATE');
    db.prepare('INSERT INTO t (x) VALUES (?)').run(['never committed']);
    db.close();
    db.close();
    const other = openSqlConnection(path, { busyTimeoutMs: 0 });
    expect(other.transaction(() => other.prepare('INSERT INTO t (x) VALUES (?)').run(['next']).changes)).toBe(1);
    expect(other.prepare<{ x: string }>('SELECT x FROM t').all().map((r) => r.x)).toEqual(['next']);
    other.close();
  });

  it('opens read-only (also a path with URI characters in it) and refuses writes with SQLITE_READONLY', () => {
    const path = join(dir, 'odd ?#%name.sqlite');
    const db = openSqlConnection(path, { busyTimeoutMs: 200 });
    db.exec("CREATE TABLE t (x); INSERT INTO t (x) VALUES ('kept')");
    db.close();
    const ro = openSqlConnection(path, { busyTimeoutMs: 200, readonly: true });
    expect(ro.prepare<{ x: string }>('SELECT x FROM t').get()?.x).toBe('kept');
    expect(codeOf(() => ro.exec("INSERT INTO t (x) VALUES ('no')"))).toBe('SQLITE_READONLY');
    ro.close();
  });

  it('a failed open carries SQLITE_CANTOPEN', () => {
    expect(codeOf(() => openSqlConnection(join(dir, 'missing', 'dir', 'x.sqlite'), { busyTimeoutMs: 0 }))).toBe('SQLITE_CANTOPEN');
  });

  it('another process holding the write lock: SQLITE_BUSY after the busy timeout; after its kill -9, its uncommitted row is gone and writes go on', async () => {
    const { db, path } = fresh();
    db.transaction(() => db.prepare('INSERT INTO t (x) VALUES (?)').run(['committed']));
    const holder = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/sqlite/fixtures/hold-write-lock.ts'), path], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
      holder.once('exit', (code) => reject(new Error(`lock holder exited (${code})`)));
    });
    const t0 = Date.now();
    expect(codeOf(() => db.transaction(() => db.prepare('INSERT INTO t (x) VALUES (?)').run(['blocked'])))).toBe('SQLITE_BUSY');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    holder.kill('SIGKILL');
    await exited;
    db.transaction(() => db.prepare('INSERT INTO t (x) VALUES (?)').run(['after']));
    expect(db.prepare<{ x: string }>('SELECT x FROM t ORDER BY rowid').all().map((r) => r.x)).toEqual(['committed', 'after']);
    expect(db.pragmaValue('integrity_check')).toBe('ok');
    db.close();
  });
});
