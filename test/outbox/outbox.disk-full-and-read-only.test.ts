import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError, type LookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A real small filesystem (tmpfs) makes the disk full and read-only for real. Mounting needs root
 * (CAP_SYS_ADMIN); elsewhere these tests are skipped, saying so.
 */
let dir: string;
let mnt: string;
let mounted = false;

function sh(...args: string[]): void {
  execFileSync(args[0] as string, args.slice(1), { stdio: 'ignore' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-disk-'));
  mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  try {
    sh('mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt);
    mounted = true;
  } catch {
    console.warn('outbox disk tests skipped: cannot mount a tmpfs here (needs root)');
  }
});
afterAll(async () => {
  if (mounted) sh('umount', '-l', mnt);
  await rm(dir, { recursive: true, force: true });
});

const log = createLogger('silent');
const recovery = { writes: 3, windowMs: 1_000, probeIntervalMs: 100, minFreeBytes: 256 * 1024 };
const config = (path: string, floor = recovery.minFreeBytes) => ({
  path,
  maxBytes: 1 << 30,
  maxRows: 1_000_000,
  maxAgeMs: 3_600_000,
  synchronous: 'FULL' as const,
  expireIntervalMs: 0,
  recovery: { ...recovery, minFreeBytes: floor },
});
const msg = (id: string, size: number) => ({ id, topic: 'lookout/t/cam1/verdict', payload: Buffer.alloc(size, 120), priority: 'normal' as const });

function tryEnqueue(outbox: SqliteOutbox, id: string, size: number): LookoutError | undefined {
  try {
    outbox.enqueue(msg(id, size));
    return undefined;
  } catch (err) {
    return err as LookoutError;
  }
}

describe('outbox on a failing disk', () => {
  it('disk full: degrades with OUTBOX_UNAVAILABLE (writable=false), no crash, and is writable again only after writes succeed over the recovery window', async (ctx) => {
    if (!mounted) ctx.skip();
    const sub = join(mnt, 'full');
    mkdirSync(sub);
    const filler = join(sub, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(1024 * 1024));
    const outbox = new SqliteOutbox({ config: config(join(sub, 'outbox.sqlite')), log, reopenIntervalMs: 20 });
    await outbox.start();
    expect(outbox.stats().writable).toBe(true);

    let error: LookoutError | undefined;
    let written = 0;
    for (let i = 0; i < 200 && !error; i++) {
      error = tryEnqueue(outbox, `m${i}`, 30_000);
      if (!error) written += 1;
    }
    expect(isLookoutError(error, 'OUTBOX_UNAVAILABLE')).toBe(true);
    expect(error?.retryable).toBe(true);
    expect(error?.message).toMatch(/disk is full/);
    const degraded = outbox.stats();
    expect(degraded.writable).toBe(false);
    expect(degraded.lastError?.code).toBe('OUTBOX_UNAVAILABLE');
    await expect(outbox.write([msg('w', 10)])).rejects.toMatchObject({ code: 'OUTBOX_UNAVAILABLE' });

    // the reason names the free space once it has been read (right after the refusal)
    await waitFor(() => /free/.test(outbox.stats().unwritable?.reason ?? ''), 5_000, 'the free space in the reason');
    expect(outbox.stats().unwritable).toMatchObject({ cause: 'disk-full', reason: expect.stringMatching(/^disk full \(free \d+(\.\d+)? K?i?B < 256 KiB\)$/) });

    await unlink(filler);
    await waitFor(() => tryEnqueue(outbox, `after-${Date.now()}`, 100) === undefined, 5_000, 'the outbox to take writes again');
    const firstWriteAt = Date.now();
    // one write going through is not the disk being back
    expect(outbox.stats()).toMatchObject({ writable: false, unwritable: { since: degraded.unwritable!.since } });
    // writes counted once the free space read is above the floor again, over at least windowMs
    await waitFor(() => /^disk full, recovering \(\d of 3 writes over 1 s\)$/.test(outbox.stats().unwritable?.reason ?? ''), 5_000, 'the reason to say recovering');
    await waitFor(() => outbox.stats().writable, 10_000, 'writable after the recovery window');
    expect(Date.now() - firstWriteAt).toBeGreaterThanOrEqual(recovery.windowMs - 50);
    expect(outbox.stats().unwritable).toBeUndefined();
    expect(outbox.stats().depth).toBeGreaterThanOrEqual(written + 1);
    await outbox.stop();
  });

  it('directory turns read-only (a read-only bind mount over it): OUTBOX_UNAVAILABLE, reads still work, recovery after remount rw', async (ctx) => {
    if (!mounted) ctx.skip();
    const real = join(mnt, 'ro');
    const view = join(dir, 'view');
    mkdirSync(real);
    mkdirSync(view);
    // Write a message through the writable path first, then close (a read-write remount needs no open writers).
    const seed = new SqliteOutbox({ config: config(join(real, 'outbox.sqlite')), log });
    await seed.start();
    seed.enqueue(msg('before', 100));
    await seed.stop();
    sh('mount', '--bind', real, view);
    try {
      sh('mount', '-o', 'remount,bind,ro', view);
      const outbox = new SqliteOutbox({ config: config(join(view, 'outbox.sqlite')), log, reopenIntervalMs: 20 });
      await outbox.start();
      const error = tryEnqueue(outbox, 'during', 100);
      expect(isLookoutError(error, 'OUTBOX_UNAVAILABLE')).toBe(true);
      expect(error?.message).toMatch(/read-only|cannot be used/);
      expect(outbox.stats()).toMatchObject({ writable: false, lastError: { code: 'OUTBOX_UNAVAILABLE' } });

      expect(outbox.stats().unwritable).toMatchObject({ cause: 'read-only', reason: expect.stringMatching(/^read-only/) });

      sh('mount', '-o', 'remount,bind,rw', view);
      await waitFor(() => tryEnqueue(outbox, 'after', 100) === undefined, 5_000, 'writes after remount');
      await waitFor(() => outbox.stats().writable, 10_000, 'writable after the recovery window');
      expect(outbox.readBatch(10).map((m) => m.id)).toEqual(['before', 'after']);
      await outbox.stop();
    } finally {
      sh('umount', '-l', view);
    }
  });

  it('read-only directory at start: start() does not throw, stats say why, enqueue refuses clearly', async (ctx) => {
    if (!mounted) ctx.skip();
    const real = join(mnt, 'empty');
    const view = join(dir, 'empty-view');
    mkdirSync(real);
    mkdirSync(view);
    sh('mount', '--bind', real, view);
    try {
      sh('mount', '-o', 'remount,bind,ro', view);
      const outbox = new SqliteOutbox({ config: config(join(view, 'outbox.sqlite')), log, reopenIntervalMs: 20 });
      await outbox.start();
      const stats = outbox.stats();
      expect(stats.writable).toBe(false);
      expect(stats.lastError?.code).toBe('OUTBOX_UNAVAILABLE');
      expect(stats.lastError?.message).toMatch(/read-only|cannot be used/);
      const error = tryEnqueue(outbox, 'x', 10);
      expect(isLookoutError(error, 'OUTBOX_UNAVAILABLE')).toBe(true);
      await outbox.stop();
    } finally {
      sh('umount', '-l', view);
    }
  });

  it('free space below the floor: not writable, saying so, though writes still go through', async (ctx) => {
    if (!mounted) ctx.skip();
    const sub = join(mnt, 'floor');
    mkdirSync(sub);
    const outbox = new SqliteOutbox({ config: config(join(sub, 'outbox.sqlite'), 4 * 1024 * 1024), log });
    await outbox.start();
    expect(tryEnqueue(outbox, 'kept', 100)).toBeUndefined();
    const stats = outbox.stats();
    expect(stats).toMatchObject({ writable: false, depth: 1, unwritable: { cause: 'low-space', reason: expect.stringMatching(/^disk nearly full \(free \d+(\.\d+)? [KM]iB < 4 MiB\)$/) } });
    expect(stats.unwritable?.freeBytes).toBeLessThan(4 * 1024 * 1024);
    await outbox.stop();
  });
});
