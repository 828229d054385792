import { describe, expect, it } from 'vitest';
import { LookoutError } from '../../src/core/errors.js';
import { PartIdQueue, type AnnouncedPart } from '../../src/sources/genicam/part-id-queue.js';

/** A queue on a clock the test moves; `expired` records what it dropped. */
function queue(capacity = 3, maxAgeMs = 1_000) {
  let now = 1_000_000;
  const expired: string[] = [];
  const q = new PartIdQueue({ capacity, maxAgeMs, now: () => now, onExpired: (p: AnnouncedPart) => expired.push(p.partId) });
  return { q, expired, advance: (ms: number) => (now += ms) };
}

describe('announced part ids (GenICam hardware trigger)', () => {
  it('frames take the announced ids oldest first, and each announcement settles with what became of its frame', async () => {
    const { q } = queue();
    const a = q.announce('A-1');
    const b = q.announce('A-2');
    const first = q.take();
    const second = q.take();
    expect([first?.partId, second?.partId]).toEqual(['A-1', 'A-2']);
    expect(q.take()).toBeUndefined();
    first?.settle(Promise.resolve('verdict 1'));
    second?.settle(Promise.reject(new LookoutError('QUEUE_FULL', 'refused')));
    await expect(a).resolves.toBe('verdict 1');
    await expect(b).rejects.toMatchObject({ code: 'QUEUE_FULL' });
  });

  it('an id older than maxAgeMs is dropped (PART_ID_EXPIRED) before the next frame pairs, so later ids are not shifted', async () => {
    const { q, expired, advance } = queue(3, 1_000);
    const lost = q.announce('B-lost');
    advance(900);
    void q.announce('B-2');
    advance(101);
    expect(q.take()?.partId).toBe('B-2');
    expect(expired).toEqual(['B-lost']);
    await expect(lost).rejects.toMatchObject({ code: 'PART_ID_EXPIRED' });
  });

  it('refuses an announcement past its capacity (QUEUE_FULL, counted) and rejects the waiting ones when cleared', async () => {
    const { q } = queue(2);
    const waiting = [q.announce('C-1'), q.announce('C-2')];
    await expect(q.announce('C-3')).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(q.refused).toBe(1);
    expect(q.depth).toBe(2);
    q.clear(new LookoutError('SOURCE_UNAVAILABLE', 'stopped'));
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(q.depth).toBe(0);
  });

  it('drops an expired id without a frame coming (its own timer)', async () => {
    const expired: string[] = [];
    const q = new PartIdQueue({ capacity: 2, maxAgeMs: 20, onExpired: (p) => expired.push(p.partId) });
    await expect(q.announce('D-1')).rejects.toMatchObject({ code: 'PART_ID_EXPIRED' });
    expect(expired).toEqual(['D-1']);
    expect(q.depth).toBe(0);
  });
});
