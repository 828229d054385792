import { describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { assertPublishable, MAX_PAYLOAD_BYTES } from '../../src/core/publish-limits.js';
import { encodePayload, maskPayload, rejectPayload, verdictPayload } from '../../src/publish/payloads.js';
import { Topics } from '../../src/publish/topics.js';
import { verdict } from './fixtures.js';

const ctx = { thingName: 'line1-gw', maxInlineMaskBytes: 64 * 1024, now: () => 1_700_000_000_100 };

describe('topics and payloads', () => {
  it('puts every topic under <prefix>/<thing>/', () => {
    const topics = new Topics('factory/lookout', 'line1-gw');
    expect(topics.camera('verdict', 'cam1')).toBe('factory/lookout/line1-gw/cam1/verdict');
    expect(topics.camera('reject', 'cam1')).toBe('factory/lookout/line1-gw/cam1/reject');
    expect(topics.camera('mask', 'cam1')).toBe('factory/lookout/line1-gw/cam1/mask');
    expect(topics.agent('state')).toBe('factory/lookout/line1-gw/state');
    expect(topics.agent('health')).toBe('factory/lookout/line1-gw/health');
  });

  it('mirrors LfV DetectAnomalyResult (background first) with our ids, times and timings', () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const p = verdictPayload(verdict({ mask: { png: 'cam1/m.png', bytes: 8 } }), png, ctx);
    expect(p).toMatchObject({
      v: 1,
      kind: 'verdict',
      id: 'cam1-1700000000000-1:verdict',
      verdictId: 'cam1-1700000000000-1',
      thingName: 'line1-gw',
      cameraId: 'cam1',
      partId: 'part-42',
      outcome: 'reject',
      capturedAt: '2023-11-14T22:13:20.000Z',
      timings: { inferenceMs: 21, totalMs: 40 },
      DetectAnomalyResult: {
        Source: { Type: 'direct' },
        IsAnomalous: true,
        Confidence: 0.93,
        Anomalies: [
          { Name: 'background', PixelAnomaly: { TotalPercentageArea: 0.988, Color: '#FFFFFF' } },
          { Name: 'crack', PixelAnomaly: { TotalPercentageArea: 0.012, Color: '#23A436' } },
        ],
        AnomalyMask: png.toString('base64'),
      },
    });
    expect(p.maskRef).toBeUndefined();
    // Classification only: no Anomalies, no mask.
    const cls = verdictPayload(verdict({ anomalies: [], outcome: 'pass', isAnomalous: false }), undefined, ctx);
    expect(cls.DetectAnomalyResult).toEqual({ Source: { Type: 'direct' }, IsAnomalous: false, Confidence: 0.93 });
  });

  it('sends a large mask as a reference, never inline, and keeps every payload under 128 KiB', () => {
    const big = Buffer.alloc(90 * 1024, 7);
    const v = verdict({ mask: { png: 'cam1/2023/m-1.png', bytes: big.length } });
    const p = verdictPayload(v, big, ctx);
    expect(p.DetectAnomalyResult.AnomalyMask).toBeUndefined();
    expect(p.maskRef).toEqual({ ref: 'cam1/2023/m-1.png', bytes: big.length, format: 'png' });
    const m = maskPayload(v, big, ctx);
    expect(m?.png).toBeUndefined();
    expect(m?.maskRef?.ref).toBe('cam1/2023/m-1.png');
    expect(encodePayload('verdict', p).length).toBeLessThan(MAX_PAYLOAD_BYTES);
    // Small enough alone but not with the rest: falls back to the reference.
    const tight = { ...ctx, maxInlineMaskBytes: 200 * 1024 };
    const nearLimit = Buffer.alloc(98_100, 1); // base64 130,800 chars: under the limit alone, over it with the rest
    expect(verdictPayload(v, nearLimit, tight).maskRef?.ref).toBe('cam1/2023/m-1.png');
  });

  it('reject payload carries part id, camera and verdict id, and refuses a non-reject', () => {
    expect(rejectPayload(verdict(), ctx)).toMatchObject({ v: 1, kind: 'reject', id: 'cam1-1700000000000-1:reject', verdictId: 'cam1-1700000000000-1', cameraId: 'cam1', partId: 'part-42' });
    let caught: unknown;
    try {
      rejectPayload(verdict({ outcome: 'pass' }), ctx);
    } catch (e) {
      caught = e;
    }
    expect(isLookoutError(caught, 'PAYLOAD_INVALID')).toBe(true);
  });

  it('refuses 128 KiB and more, wildcard topics and non-buffers with PAYLOAD_INVALID and a clear message', () => {
    const check = (topic: string, payload: unknown): string => {
      try {
        assertPublishable(topic, payload);
        return 'ok';
      } catch (e) {
        expect(isLookoutError(e, 'PAYLOAD_INVALID')).toBe(true);
        return (e as Error).message;
      }
    };
    expect(check('a/b', Buffer.alloc(MAX_PAYLOAD_BYTES - 1))).toBe('ok');
    expect(check('a/b', Buffer.alloc(MAX_PAYLOAD_BYTES))).toMatch(/131072 bytes; IoT Core refuses 131072 bytes and more/);
    expect(check('a/#', Buffer.from('x'))).toMatch(/wildcard/);
    expect(check('a/b/c/d/e/f/g/h', Buffer.from('x'))).toBe('ok');
    expect(check('a/b/c/d/e/f/g/h/i', Buffer.from('x'))).toMatch(/8 slashes; IoT Core allows 7/);
    expect(check('', Buffer.from('x'))).toMatch(/no topic/);
    expect(check('a/b', { not: 'bytes' })).toMatch(/not a byte buffer/);
    expect(() => encodePayload('health', { v: 1, kind: 'health', id: 'h', thingName: 't', sentAt: '', uptimeSec: 1, outbox: { depth: 0, bytes: 0, oldestAgeMs: null, evictions: 0, delivered: 0, writable: true }, details: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } })).toThrow(/IoT Core refuses/);
  });
});
