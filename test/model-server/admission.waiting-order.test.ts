import { describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { ByteAdmission, type ReadReservation } from '../../src/model-server/admission.js';

/** The byte budget's wait queue (issue 17, item 5): order, hand-over of bytes, callers that give up, its bound. */

/** Settles to the reservation, or to 'waiting' while it is not granted yet (after pending callbacks ran). */
async function state(p: Promise<ReadReservation>): Promise<ReadReservation | 'waiting'> {
  return Promise.race([p, new Promise<'waiting'>((resolve) => setImmediate(() => resolve('waiting')))]);
}

describe('ByteAdmission reads', () => {
  it('grants waiting reads in arrival order: a later small one does not pass a larger one at the head', async () => {
    const admission = new ByteAdmission(100);
    const first = await admission.reserveForRead(60);
    const large = admission.reserveForRead(60);
    const small = admission.reserveForRead(10);
    expect(await state(large)).toBe('waiting');
    expect(await state(small)).toBe('waiting');
    expect(admission.stats()).toMatchObject({ readingBytes: 60, readsWaiting: 2 });

    // The first request arrived and needs 50: 10 come back, still no room for 60 (the 10 behind it would fit, and wait).
    const kept = first.received(50);
    expect(await state(large)).toBe('waiting');
    expect(await state(small)).toBe('waiting');
    expect(admission.stats()).toMatchObject({ reservedBytes: 50, readingBytes: 0, readsWaiting: 2 });

    kept.release();
    expect(await state(large)).not.toBe('waiting');
    expect(await state(small)).not.toBe('waiting');
    expect(admission.stats()).toMatchObject({ reservedBytes: 0, readingBytes: 70, readsWaiting: 0, peakBytes: 70 });
    (await large).release();
    (await small).release();
    expect(admission.stats()).toMatchObject({ reservedBytes: 0, readingBytes: 0 });
  });

  it('lets a caller that gives up leave the queue holding nothing, and grants the one behind it', async () => {
    const admission = new ByteAdmission(100);
    const first = await admission.reserveForRead(50);
    const gaveUp = new AbortController();
    const impatient = admission.reserveForRead(80, gaveUp.signal);
    const behind = admission.reserveForRead(40);
    expect(await state(behind)).toBe('waiting');

    gaveUp.abort();
    await expect(impatient).rejects.toSatisfy((err: unknown) => isLookoutError(err, 'INFERENCE_TIMEOUT'));
    expect(await state(behind)).not.toBe('waiting');
    expect(admission.stats()).toMatchObject({ readingBytes: 90, readsWaiting: 0 });
    first.release();
    (await behind).release();
    expect(admission.stats()).toMatchObject({ readingBytes: 0, peakBytes: 90 });
  });

  it('refuses a read past maxWaiting with QUEUE_FULL and counts it; reads never hold more than the budget', async () => {
    const admission = new ByteAdmission(100, 2);
    const held = await admission.reserveForRead(500); // capped at the budget
    expect(held.bytes).toBe(100);
    const waiting = [admission.reserveForRead(100), admission.reserveForRead(100)];
    await expect(admission.reserveForRead(1)).rejects.toSatisfy((err: unknown) => isLookoutError(err, 'QUEUE_FULL'));
    expect(admission.stats()).toMatchObject({ readsWaiting: 2, overBudget: 1 });
    held.release();
    (await waiting[0]!).release();
    (await waiting[1]!).release();
    expect(admission.stats()).toMatchObject({ readingBytes: 0, reservedBytes: 0, readsWaiting: 0, peakBytes: 100 });
  });
});
