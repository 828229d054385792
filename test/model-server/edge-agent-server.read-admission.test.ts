import { connect as h2connect } from 'node:http2';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelServerConfig } from '../../src/config/slices/model-server.js';
import { MAX_MESSAGE_BYTES } from '../../src/edge-agent/adapters/edge-agent-proto.js';
import { grpc, image, rawClient, removeDir, startServer, statusOf, waitFor, type RawClient, type TestServer } from '../peers/edge-agent-peer.js';

/**
 * Admission before a DetectAnomalies request is read (issue 17, item 5): a call holds the largest request's
 * bytes under modelServer.queueBytes before grpc-js reads it, and waits unread while they are not there;
 * a request that does not arrive within modelServer.readTimeoutMs is answered RESOURCE_EXHAUSTED. Real
 * server on a Unix socket, real gRPC clients, a real HTTP/2 client for the one that trickles.
 */

const S = grpc.status;
const BIG = 4096 * 4096 * 3;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serve(models: Parameters<typeof startServer>[0], config: Partial<ModelServerConfig>): Promise<TestServer> {
  const agent = await startServer(models, { config });
  cleanup.push(() => removeDir(agent.dir), () => agent.stop());
  const c = client(agent);
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === 2));
  return agent;
}

/** A client on a connection of its own, as one in another process is. */
function client(agent: TestServer): RawClient {
  const c = rawClient(agent.address, { keepCase: true, longs: Number, defaults: true, oneofs: true }, { 'grpc.use_local_subchannel_pool': 1 });
  cleanup.push(() => c.close());
  return c;
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const small = (c: RawClient) => c.call('DetectAnomalies', { model_component: 'small', bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }, 60_000);

describe('admission before a request is read', () => {
  it('keeps reading plus queued bytes of a flood of large inline images within queueBytes, lets the calls past it wait instead of refusing them, and serves a small-call client meanwhile', async () => {
    const held = gate();
    let started = 0;
    // The default budget: five of the largest requests.
    const agent = await serve([{ component: 'big', script: { gate: held.promise, onInfer: () => started++ } }, { component: 'small' }], { concurrency: 8 });
    const budget = agent.config.queueBytes;
    const pixels = new Uint8Array(BIG);
    const detectBig = (c: RawClient) => c.call('DetectAnomalies', { model_component: 'big', bitmap: { width: 4096, height: 4096, byte_data: pixels } }, 60_000);

    // One client: its four calls in the server (connectionCalls) leave room for another caller.
    const first = client(agent);
    const flood = Array.from({ length: 8 }, () => detectBig(first));
    await waitFor(() => started === 4, 30_000, 'four large calls read and running');
    const polite = client(agent);
    for (let i = 0; i < 3; i++) await small(polite);
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 4 * BIG, readingBytes: 0, readsWaiting: 0, overBudget: 0 });

    // A second flooding client: one more is read, three wait unread for bytes (and a small call behind them).
    const second = client(agent);
    flood.push(...Array.from({ length: 4 }, () => detectBig(second)));
    await waitFor(() => started === 5 && agent.server.stats().readsWaiting === 3, 30_000, 'five running, three waiting');
    const behind = small(polite);
    await waitFor(() => agent.server.stats().readsWaiting === 4);
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 5 * BIG, readingBytes: 0, overBudget: 0 });

    held.open();
    await expect(behind).resolves.toBeDefined();
    expect(await Promise.all(flood)).toHaveLength(12);
    expect(started).toBe(12);
    const stats = agent.server.stats();
    expect(stats).toMatchObject({ reservedBytes: 0, readingBytes: 0, readsWaiting: 0, overBudget: 0, readTimeouts: 0 });
    expect(stats.peakBytes).toBeGreaterThan(4 * BIG);
    expect(stats.peakBytes).toBeLessThanOrEqual(budget);
    expect(Math.floor(budget / MAX_MESSAGE_BYTES)).toBe(5);
  }, 120_000);

  it('answers a request that trickles in RESOURCE_EXHAUSTED at readTimeoutMs and gives its bytes back; other clients are served', async () => {
    const agent = await serve([{ component: 'small' }], { readTimeoutMs: 500 });
    const session = h2connect('http://localhost', { createConnection: () => connect(agent.socket) });
    cleanup.push(() => void session.destroy());
    session.on('error', () => undefined);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/AWS.LookoutVision.EdgeAgent/DetectAnomalies',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => undefined);
    const answered = new Promise<Record<string, unknown>>((resolve) => stream.once('response', (headers) => resolve(headers)));
    // A gRPC message header announcing the largest request, then a few bytes of it, and nothing more.
    const head = Buffer.alloc(5);
    head.writeUInt32BE(BIG + 64, 1);
    stream.write(Buffer.concat([head, Buffer.alloc(1024)]));
    await waitFor(() => agent.server.stats().readingBytes > 0, 10_000, 'the request is being read');
    expect(await statusOf(small(client(agent)))).toBe(S.OK);

    const headers = await answered;
    expect(Number(headers['grpc-status'])).toBe(S.RESOURCE_EXHAUSTED);
    expect(decodeURIComponent(String(headers['grpc-message']))).toMatch(/did not arrive within modelServer\.readTimeoutMs = 500 ms/);
    expect(agent.server.stats()).toMatchObject({ readingBytes: 0, reservedBytes: 0, readTimeouts: 1 });
    expect(await statusOf(small(client(agent)))).toBe(S.OK);
  }, 30_000);

  it('answers a call still waiting for bytes UNAVAILABLE at the shutdown grace, as it does a running one', async () => {
    const held = gate();
    cleanup.push(held.open);
    let started = 0;
    // The smallest budget holds one largest request: a call being read or run leaves no room for another.
    const agent = await serve([{ component: 'small', script: { gate: held.promise, onInfer: () => started++ } }], { queueBytes: BIG });
    const c = client(agent);
    const running = statusOf(small(c));
    await waitFor(() => started === 1);
    const waiting = statusOf(small(client(agent)));
    await waitFor(() => agent.server.stats().readsWaiting === 1);

    await agent.stop();
    expect(await running).toBe(S.UNAVAILABLE);
    expect(await waiting).toBe(S.UNAVAILABLE);
    expect(agent.server.stats()).toMatchObject({ readsWaiting: 0, readingBytes: 0 });
  }, 30_000);
});
