import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/verdict.js';
import type { Inspection } from '../../src/pipeline/ports.js';
import { type PartsRig, startPartsRig } from './parts-rig.js';

/**
 * The reject signal does not wait for the mask: a segmenting model's anomalous verdict reaches the fast
 * sinks (reject signal, PLC outputs) before its mask PNG and overlay are encoded and written, and the
 * delivering sinks (outbox, evidence) then get the verdict with the saved files and the PNG for inline
 * payloads.
 */
describe('a verdict with a mask', () => {
  let rig: PartsRig;
  /** For each fast-sink call: the verdict it saw and whether the mask file existed then. */
  const signalled: Array<{ verdict: Verdict; maskOnDisk: boolean; maskPng: boolean }> = [];
  const delivered: Array<{ verdict: Verdict; maskPng: number }> = [];
  const maskFile = (frameId: string) => join(rig.masksDir, 'cam1', `${frameId}.mask.png`);

  beforeAll(async () => {
    rig = await startPartsRig({
      dirPrefix: 'le-reject-before-mask-',
      script: { segment: true, score: 0.9 },
      classes: [{ name: 'dent', hexColor: '#FF0080' }],
      sinks: [
        {
          name: 'reject',
          fast: true,
          accept: ({ verdict, maskPng }: Inspection) => void signalled.push({ verdict, maskOnDisk: existsSync(maskFile(verdict.frameId)), maskPng: maskPng !== undefined }),
        },
        { name: 'outbox', required: true, accept: ({ verdict, maskPng }: Inspection) => void delivered.push({ verdict, maskPng: maskPng?.length ?? 0 }) },
      ],
    });
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('is signalled before its mask is written, and delivered with the saved files', async () => {
    const verdict = await rig.inspector.inspectNow('cam1', 'p1');
    expect(verdict.outcome).toBe('reject');
    expect(signalled).toHaveLength(1);
    expect(signalled[0]).toMatchObject({ maskOnDisk: false, maskPng: false });
    expect(signalled[0]?.verdict.mask).toBeUndefined();
    expect(signalled[0]?.verdict.anomalies.map((a) => a.name)).toEqual(['dent']);

    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.verdict.mask).toMatchObject({ png: 'cam1/' + verdict.frameId + '.mask.png', overlay: 'cam1/' + verdict.frameId + '.overlay.jpg' });
    expect(delivered[0]?.maskPng).toBeGreaterThan(0);
    expect(delivered[0]?.verdict.timings.maskMs).toBeGreaterThanOrEqual(0);
    expect(existsSync(maskFile(verdict.frameId))).toBe(true);
    expect(verdict.mask).toEqual(delivered[0]?.verdict.mask); // the caller gets the delivered verdict
  }, 30_000);
});
