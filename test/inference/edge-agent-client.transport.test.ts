import { readdir } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { clientConfig, image, removeDir, silentLog, startServer, waitFor, type Script, type TestServer } from '../peers/edge-agent-peer.js';

/** The client's image transports against our server: shared memory (input and mask), inline, TCP, fallbacks. */

const segClasses = { classes: [{ name: 'dent', hexColor: '#FF0080' }] };
const slow: Script = { inferDelayMs: 150 };
const segment: Script = { segment: true };
let agent: TestServer;
const clients: EdgeAgentClient[] = [];

beforeAll(async () => {
  agent = await startServer([{ component: 'classify' }, { component: 'segment', script: segment, manifest: segClasses }, { component: 'slow', script: slow }]);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop('test')));
});
afterAll(async () => {
  await agent.stop();
  await removeDir(agent.dir);
});

async function client(overrides: Parameters<typeof clientConfig>[1] = {}, extra: Partial<ConstructorParameters<typeof EdgeAgentClient>[0]> = {}, address = agent.address): Promise<EdgeAgentClient> {
  const c = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig(address, overrides), log: silentLog, ...extra });
  clients.push(c);
  await c.start();
  return c;
}

const ourSegments = async (): Promise<string[]> => (await readdir('/dev/shm')).filter((f) => f.startsWith(`lookout-edge-${process.pid}-`));

describe('shared memory', () => {
  it('is chosen automatically on a Unix socket, sends the bitmap through a segment and reuses it', async () => {
    const c = await client();
    expect(c.transport).toBe('shm');
    const r1 = await c.detect('classify', image(64, 64, 51), { wantMask: false });
    const r2 = await c.detect('classify', image(640, 480, 230), { wantMask: false });
    expect(r1.anomalyScore).toBeCloseTo(0.2, 5);
    expect(r2.isAnomalous).toBe(true);
    expect(c.stats()).toMatchObject({ calls: 2, shmCalls: 2, inlineCalls: 0 });
    expect(await ourSegments()).toHaveLength(1);
  });

  it('grows the segment for a bigger image and removes it on stop()', async () => {
    const c = await client();
    await c.detect('classify', image(64, 64), { wantMask: false });
    const [name] = await ourSegments();
    await c.detect('classify', image(1920, 1080, 255), { wantMask: true });
    expect(await ourSegments()).toEqual([name]);
    await c.stop('test');
    expect(await ourSegments()).toEqual([]);
  });

  it('gets the mask back through the segment, in the class colours', async () => {
    const c = await client();
    const r = await c.detect('segment', image(128, 64, 255), { wantMask: true });
    expect(r.anomalies).toEqual([{ name: 'dent', totalPercentageArea: 0.5, hexColor: '#FF0080' }]);
    expect(r.mask?.width).toBe(128);
    expect([...(r.mask?.pixels.subarray(0, 3) ?? [])]).toEqual([0xff, 0x00, 0x80]);
    expect([...(r.mask?.pixels.subarray(127 * 3, 128 * 3) ?? [])]).toEqual([0, 0, 0]);
    expect(c.stats().inlineMasks).toBe(0);
    // The mask is a copy: the next call reusing the segment does not change it.
    await c.detect('segment', image(128, 64, 0), { wantMask: true });
    expect([...(r.mask?.pixels.subarray(0, 3) ?? [])]).toEqual([0xff, 0x00, 0x80]);
  });

  it('handles images above the synchronous-copy limit (both directions through the thread pool)', async () => {
    const c = await client();
    const big = image(2048, 1536, 255); // 9 MiB > 8 MiB
    const r = await c.detect('segment', big, { wantMask: true });
    expect(r.isAnomalous).toBe(true);
    const px = r.mask?.pixels as Uint8Array;
    expect(px.length).toBe(2048 * 1536 * 3);
    const last = (1536 * 2048 - 1) * 3;
    expect([...px.subarray(last - 1024 * 3, last - 1024 * 3 + 3)]).toEqual([0xff, 0x00, 0x80]);
    expect([...px.subarray(last, last + 3)]).toEqual([0, 0, 0]);
    expect(c.stats().shmCalls).toBe(1);
  });

  it('without wantMask asks for no mask at all, and the server does not paint one', async () => {
    for (const transport of ['shm', 'inline'] as const) {
      const c = await client({ transport });
      const r = await c.detect('segment', image(64, 64, 255), { wantMask: false });
      expect(r.mask).toBeUndefined();
      expect(r.anomalies).toHaveLength(1);
      expect(segment.lastWantMask).toBe(false);
      await c.detect('segment', image(64, 64, 255), { wantMask: true });
      expect(segment.lastWantMask).toBe(true);
    }
  });

  it('overlapping calls never share a segment; past the pool bound they go inline', async () => {
    const c = await client({}, { maxShmSegments: 3 });
    const fills = [10, 60, 110, 160, 210];
    const results = await Promise.all(fills.map((f) => c.detect('slow', image(320, 240, f), { wantMask: false })));
    results.forEach((r, i) => expect(r.anomalyScore).toBeCloseTo((fills[i] as number) / 255, 5));
    expect(c.stats()).toMatchObject({ shmCalls: 3, inlineCalls: 2, poolExhausted: 2 });
    expect(await ourSegments()).toHaveLength(3);
  });
});

describe('inline and fallbacks', () => {
  it('sends inline bytes when configured so, mask included', async () => {
    const c = await client({ transport: 'inline' });
    expect(c.transport).toBe('inline');
    const r = await c.detect('segment', image(64, 64, 255), { wantMask: true });
    expect([...(r.mask?.pixels.subarray(0, 3) ?? [])]).toEqual([0xff, 0x00, 0x80]);
    expect(c.stats()).toMatchObject({ shmCalls: 0, inlineCalls: 1 });
  });

  it('falls back to inline when shared memory is unavailable (auto), and refuses to start when shm is required', async () => {
    const c = await client({ transport: 'auto' }, { shmDir: '/nonexistent/shm' });
    expect(c.transport).toBe('inline');
    expect((await c.detect('classify', image(64, 64), { wantMask: false })).isAnomalous).toBe(false);
    const strict = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig(agent.address, { transport: 'shm' }), log: silentLog, shmDir: '/nonexistent/shm' });
    clients.push(strict);
    await expect(strict.start()).rejects.toMatchObject({ code: 'SHM_UNAVAILABLE' });
  });

  it('talks to an agent over TCP (inline, since shared memory needs the same host)', async () => {
    const tcp = await startServer([{ component: 'classify' }], { tcp: true });
    try {
      expect(tcp.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const c = await client({}, {}, tcp.address);
      expect(c.transport).toBe('inline');
      await waitFor(async () => (await c.describe('classify')).status === 2);
      expect((await c.detect('classify', image(64, 64), { wantMask: false })).isAnomalous).toBe(false);
    } finally {
      await tcp.stop();
      await removeDir(tcp.dir);
    }
  });

  it('rejects a malformed image before calling the agent', async () => {
    const c = await client();
    await expect(c.detect('classify', image(63, 63), { wantMask: false })).rejects.toMatchObject({ code: 'INFERENCE_INVALID_ARGUMENT' });
    await expect(c.detect('classify', { width: 64, height: 64, pixels: new Uint8Array(10) }, { wantMask: false })).rejects.toMatchObject({ code: 'INFERENCE_INVALID_ARGUMENT' });
    expect(c.stats().calls).toBe(0);
  });
});
