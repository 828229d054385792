import { describe, expect, it } from 'vitest';
import { sleep, withDeadline } from '../../src/core/deadline.js';
import { LookoutError } from '../../src/core/errors.js';

/** Timers that keep the process alive (an unref'd timer is not listed). */
const liveTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('sleep: the one sleep', () => {
  it('resolves, never rejects, when its signal aborts before the time is up', async () => {
    const stop = new AbortController();
    const slept = sleep(60_000, stop.signal);
    stop.abort(new Error('stopping'));
    await expect(slept).resolves.toBeUndefined();
    expect(stop.signal.aborted).toBe(true);
  });

  it('resolves at once for a signal already aborted, holding no timer', async () => {
    const before = liveTimers();
    const slept = sleep(60_000, AbortSignal.abort());
    expect(liveTimers()).toBe(before);
    await expect(slept).resolves.toBeUndefined();
  });

  it('resolves after its time without a signal', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
  });

  it('keeps the process alive unless asked not to (ref: false)', async () => {
    const stop = new AbortController();
    const before = liveTimers();
    const held = sleep(60_000, stop.signal);
    expect(liveTimers()).toBe(before + 1);
    const unheld = sleep(60_000, stop.signal, { ref: false });
    expect(liveTimers()).toBe(before + 1);
    stop.abort();
    await Promise.all([held, unheld]);
    expect(liveTimers()).toBe(before);
  });
});

describe('withDeadline: the one deadline helper', () => {
  const never = new Promise<never>(() => {});

  it('passes the result and the rejection of work that finishes in time through', async () => {
    await expect(withDeadline(Promise.resolve(7), 60_000, 'work', 'OPERATION_TIMEOUT')).resolves.toBe(7);
    const failure = new LookoutError('PUBLISH_FAILED', 'refused');
    await expect(withDeadline(Promise.reject(failure), 60_000, 'work', 'OPERATION_TIMEOUT')).rejects.toBe(failure);
  });

  it('rejects with its code when the work outlives the deadline', async () => {
    const err = await withDeadline(never, 1, 'publish 42', 'PUBLISH_FAILED').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LookoutError);
    expect(err).toMatchObject({ code: 'PUBLISH_FAILED', details: { timeoutMs: 1 } });
    expect((err as Error).message).toContain('publish 42 did not finish within 1 ms');
  });

  it('gives up with the abort code when the caller stops, at once if it already has', async () => {
    const stop = new AbortController();
    const waiting = withDeadline(never, 60_000, 'folder scan', 'SOURCE_STALLED', { signal: stop.signal, abortCode: 'SOURCE_UNAVAILABLE' });
    stop.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    await expect(withDeadline(never, 60_000, 'folder scan', 'SOURCE_STALLED', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'SOURCE_STALLED' });
  });
});
