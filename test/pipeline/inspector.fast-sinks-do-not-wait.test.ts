import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inspection } from '../../src/pipeline/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { type PartsRig, startPartsRig } from './parts-rig.js';

/**
 * The reject signal and PLC outputs (fast sinks) hear of a verdict the moment it exists, even while the
 * previous verdict's outbox write (a durable sink) has not finished; the durable sinks keep their order.
 */
describe('fast verdict sinks', () => {
  let rig: PartsRig;
  let inspector: PartsRig['inspector'];
  const signalled: string[] = [];
  const durable: string[] = [];
  const releases: Array<() => void> = [];
  let allDurable = false;

  beforeAll(async () => {
    rig = await startPartsRig({
      dirPrefix: 'le-fast-sinks-',
      sinks: [
        { name: 'plc', fast: true, accept: ({ verdict }: Inspection) => void signalled.push(verdict.partId ?? '?') },
        {
          name: 'outbox',
          required: true,
          // durable only when the test says so, as an fsync that takes its time
          accept: ({ verdict }: Inspection) =>
            allDurable ? undefined : new Promise<void>((resolve) => releases.push(() => resolve(void durable.push(verdict.partId ?? '?')))),
        },
      ],
    });
    inspector = rig.inspector;
  });

  afterAll(async () => {
    allDurable = true;
    for (const release of releases) release();
    await rig?.stop();
  });

  it('signals the second verdict while the first one is still being made durable, and settles them in order', async () => {
    const first = inspector.inspectNow('cam1', 'p1');
    const second = inspector.inspectNow('cam1', 'p2');
    await waitFor(() => signalled.length === 2, 10_000, 'both verdicts signalled');
    expect(signalled).toEqual(['p1', 'p2']);
    expect(releases).toHaveLength(1); // p1's outbox write is pending; p2's waits for it
    expect(durable).toEqual([]);
    releases[0]?.();
    await waitFor(() => releases.length === 2, 10_000, "p2's outbox write");
    releases[1]?.();
    expect((await first).partId).toBe('p1');
    expect((await second).partId).toBe('p2');
    expect(durable).toEqual(['p1', 'p2']);
  }, 30_000);
});
