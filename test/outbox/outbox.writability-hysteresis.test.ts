import { describe, expect, it } from 'vitest';
import { formatBytes, Writability } from '../../src/outbox/writability.js';

/** The rule behind the outbox's `writable` (and so /readyz), on its own: times are given, not waited for. */
const MiB = 1024 * 1024;
const config = { writes: 3, windowMs: 10_000, minFreeBytes: 64 * MiB };

describe('outbox writability', () => {
  it('goes down on one refused write and up only after N writes spread over the window', () => {
    const w = new Writability(config);
    expect(w.failed('disk-full', 1_000)).toBe('down');
    expect(w.state()).toMatchObject({ cause: 'disk-full', reason: 'disk full', since: 1_000 });
    expect(w.succeeded(2_000)).toBeUndefined();
    expect(w.succeeded(2_100)).toBeUndefined();
    expect(w.succeeded(2_200)).toBeUndefined(); // three writes, but within 200 ms
    expect(w.state()?.reason).toBe('disk full, recovering (3 of 3 writes over 10 s)');
    expect(w.succeeded(12_000)).toBe('up');
    expect(w.writable).toBe(true);
    expect(w.state()).toBeUndefined();
  });

  it('starts over after a refused write in the middle, and keeps the first time it went down', () => {
    const w = new Writability(config);
    w.failed('disk-full', 1_000);
    w.succeeded(2_000);
    w.succeeded(8_000);
    expect(w.failed('disk-full', 9_000)).toBeUndefined();
    expect(w.succeeded(12_100)).toBeUndefined(); // 10 s after the first write, but the streak restarted
    w.succeeded(15_000);
    expect(w.succeeded(22_100)).toBe('up');
    expect(w.failed('read-only', 30_000, 'SQLITE_READONLY')).toBe('down');
    expect(w.state()).toMatchObject({ reason: 'read-only (SQLITE_READONLY)', since: 30_000 });
  });

  it('is not writable while free space is below the floor, and counts no write until it is back above', () => {
    const w = new Writability(config);
    expect(w.freeSpace(100 * MiB, 0)).toBeUndefined();
    expect(w.freeSpace(12 * 1024, 1_000)).toBe('down');
    expect(w.state()).toEqual({ cause: 'low-space', reason: 'disk nearly full (free 12 KiB < 64 MiB)', since: 1_000, freeBytes: 12 * 1024 });
    for (let t = 2_000; t <= 20_000; t += 1_000) expect(w.succeeded(t)).toBeUndefined();
    w.freeSpace(80 * MiB, 21_000);
    w.succeeded(21_500);
    w.succeeded(25_000);
    expect(w.freeSpace(1 * MiB, 26_000)).toBeUndefined(); // dips again: the streak starts over
    w.freeSpace(80 * MiB, 27_000);
    w.succeeded(28_000);
    w.succeeded(33_000);
    expect(w.succeeded(38_000)).toBe('up');
  });

  it('writes sizes the way an operator reads them', () => {
    expect([0, 512, 12 * 1024, 1536 * 1024, 64 * MiB, 3 * 1024 * MiB].map(formatBytes)).toEqual(['0 B', '512 B', '12 KiB', '1.5 MiB', '64 MiB', '3 GiB']);
  });
});
